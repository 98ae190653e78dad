import pathlib
import sys

# Tests import the project's top-level packages from the checkout.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
