"""A structural PDF check for the tests: header, every xref offset points at its object, trailer, EOF."""

import re


def check_pdf(data: bytes) -> list[bytes]:
    """The page content streams, after asserting the file is a well-formed PDF."""
    assert data.startswith(b"%PDF-1.4\n") and data.rstrip().endswith(b"%%EOF")
    startxref = int(re.findall(rb"startxref\n(\d+)\n", data)[-1])
    assert data[startxref:].startswith(b"xref\n")
    header = re.match(rb"xref\n0 (\d+)\n", data[startxref:])
    assert header is not None
    count = int(header.group(1))
    entries = data[startxref + header.end():].split(b"\n")[:count]
    assert entries[0] == b"0000000000 65535 f "
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number), number
    assert b"/Root 1 0 R" in data and b"/Size %d" % count in data
    streams = re.findall(rb"<< /Length (\d+) >>\nstream\n", data)
    contents = []
    for match in re.finditer(rb"<< /Length (\d+) >>\nstream\n", data):
        length = int(match.group(1))
        body = data[match.end():match.end() + length]
        assert data[match.end() + length:].startswith(b"\nendstream")
        contents.append(body)
    assert len(contents) == len(streams) >= 1
    return contents
