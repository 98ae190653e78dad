// The certificate's Print button; a file, not an onclick attribute, so the CSP can forbid inline script.
document.getElementById("print")?.addEventListener("click", () => window.print());
