#!/usr/bin/python3
"""Extract Jane Austen's six novels from Debian's r-cran-janeaustenr package.

Usage (no R needed; run with Debian's /usr/bin/python3):
    apt-get download r-cran-janeaustenr && dpkg-deb -x r-cran-janeaustenr_1.0.0-1_all.deb x
    /usr/bin/python3 extract-janeaustenr.py x/usr/lib/R/site-library/janeaustenr/data > austen.txt
    gzip -9 -n -c austen.txt > austen.txt.gz

The package stores each novel as an R character vector (one element per line)
in an R lazy-load database (Rdata.rdx index + Rdata.rdb zlib chunks of R's XDR
serialisation). This script reads just the subset of that format those objects
use, and writes the novels in publication order separated by blank lines,
without the later editors' note at the end of the Northanger Abbey e-text.
"""
import gzip
import struct
import sys
import zlib

ORDER = ['sensesensibility', 'prideprejudice', 'mansfieldpark', 'emma', 'northangerabbey', 'persuasion']


class Unserializer:
    def __init__(self, data):
        self.b = data
        self.p = 0
        self.refs = []

    def int(self):
        (v,) = struct.unpack('>i', self.b[self.p:self.p + 4])
        self.p += 4
        return v

    def top(self):
        assert self.b[:2] == b'X\n', 'not an XDR serialisation'
        self.p = 2
        version = self.int()
        self.int()
        self.int()
        if version == 3:
            name_length = self.int()  # native encoding name follows
            self.p += name_length
        return self.item()

    def item(self):
        flags = self.int()
        kind = flags & 0xFF
        has_attr = flags & (1 << 9)
        has_tag = flags & (1 << 10)
        if kind in (254, 253, 242, 241, 247, 251, 252):  # NULL, environments, missing
            return None
        if kind == 255:  # reference to an earlier symbol
            return self.refs[(flags >> 8) - 1]
        if kind == 1:  # SYMSXP
            sym = ('sym', self.item())
            self.refs.append(sym)
            return sym
        if kind == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            s = self.b[self.p:self.p + n].decode('utf-8')
            self.p += n
            return s
        if kind == 2:  # LISTSXP (pairlist)
            if has_attr:
                self.item()
            tag = self.item() if has_tag else None
            car = self.item()
            cdr = self.item()
            return [(tag, car)] + (cdr if isinstance(cdr, list) else [])
        if kind in (16, 19, 13, 14, 10):  # STRSXP, VECSXP, INTSXP, REALSXP, LGLSXP
            n = self.int()
            if kind in (16, 19):
                v = [self.item() for _ in range(n)]
            elif kind in (13, 10):
                v = list(struct.unpack('>%di' % n, self.b[self.p:self.p + 4 * n]))
                self.p += 4 * n
            else:
                v = list(struct.unpack('>%dd' % n, self.b[self.p:self.p + 8 * n]))
                self.p += 8 * n
            return ('attr', v, self.item()) if has_attr else v
        raise ValueError('unsupported R type %d at byte %d' % (kind, self.p))


def main(data_dir):
    index = Unserializer(gzip.decompress(open(data_dir + '/Rdata.rdx', 'rb').read())).top()
    variables = index[1][0]  # ('attr', [[offset, length], ...], names)
    offsets = variables[1]
    names = variables[2][0][1]
    rdb = open(data_dir + '/Rdata.rdb', 'rb').read()
    books = {}
    for name, (offset, length) in zip(names, offsets):
        chunk = rdb[offset:offset + length]
        lines = Unserializer(zlib.decompress(chunk[4:])).top()
        books[name] = '\n'.join(line if line is not None else '' for line in lines).strip('\n')
    # The Gutenberg e-text of Northanger Abbey ends with a note by a later
    # edition's editors; keep only Austen's own text.
    note = books['northangerabbey'].find('A NOTE ON THE TEXT')
    if note >= 0:
        books['northangerabbey'] = books['northangerabbey'][:note].strip('\n')
    sys.stdout.write('\n\n\n\n'.join(books[name] for name in ORDER) + '\n')


if __name__ == '__main__':
    main(sys.argv[1])
