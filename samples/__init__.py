"""Package data: the example forms `tousu demo` copies into the inbox (toolkit._samples)."""
