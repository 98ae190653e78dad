"""python -m clusterlabel.tools.bench [--quick] [--out bench-results.json]"""

import os
import sys

from clusterlabel.tools.bench.cli import main

if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Every server and worker is stopped by now. Skipping the interpreter's teardown avoids the SDK's
    # occasional abort at exit (sdk-python #300), so the exit code is the bench's own.
    os._exit(code)
