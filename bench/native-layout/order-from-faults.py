#!/usr/bin/env python3
"""Reads the native executable's symbols (`nm -S -n` of its .dbg file, argument 1) and files of `perf script -F addr`
page faults (the other arguments, in order); writes every function that shares a 4 kB code page with a faulting address,
in the order the pages were first touched, the first file's pages before the second's. A page fault names one address; the functions beside it on the page ran or may have run, and keeping the
whole page's functions together keeps the linked code as dense as the recorded run's pages."""
import bisect
import subprocess
import sys

PAGE = 4096

functions = []
for line in subprocess.run(["nm", "-S", "-n", "--defined-only", sys.argv[1]], capture_output=True, text=True, check=True).stdout.splitlines():
    fields = line.split()
    if len(fields) == 4 and fields[2] in ("t", "T") and int(fields[1], 16) > 0:
        functions.append((int(fields[0], 16), int(fields[1], 16), fields[3]))
starts = [f[0] for f in functions]
code_end = functions[-1][0] + functions[-1][1]

pages = []
seen_pages = set()
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as faults:
        for line in faults:
            try:
                address = int(line.split()[0], 16)
            except (IndexError, ValueError):
                continue
            page = address // PAGE
            if address < code_end and page not in seen_pages:
                seen_pages.add(page)
                pages.append(page)

written = set()
out = sys.stdout
for page in pages:
    low, high = page * PAGE, (page + 1) * PAGE
    i = max(bisect.bisect_right(starts, low) - 1, 0)
    while i < len(functions) and functions[i][0] < high:
        start, size, name = functions[i]
        if start + size > low and name not in written:
            written.add(name)
            out.write(name + "\n")
        i += 1
print(f"{len(written)} functions on {len(pages)} touched code pages", file=sys.stderr)
