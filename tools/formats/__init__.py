"""One writer per source format, shared by the sample generators (tools/samples), the test
fixture generators (tools/fixtures) and the benchmark's generator (tools/bench/generate.py).

Each module holds what a file of that source looks like on disk: its header, text encoding, line
ends and the envelope around the rows. The generators decide what goes in the rows. A change to a
source's layout is made here once. Where the three families wrote the same format in slightly
different bytes (spaces after JSON separators, an `error` key, LF or CRLF), the difference is a
named argument: each variant is one the parser must accept, and the committed files keep their
exact bytes.
"""
