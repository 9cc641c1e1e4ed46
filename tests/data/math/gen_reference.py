#!/usr/bin/env python3
"""Reference values of the libm functions weightinit reimplements
(core/math), taken from the running libm through ctypes.  Run on the
reference system (Debian 12, glibc 2.36, x86-64 with FMA):

    python3 tests/data/math/gen_reference.py     # rewrites tests/data/math/*.txt

Each line: the input's and the results' IEEE bit patterns in hex.  Inputs
are deterministic: each function's kernel arguments, random bit patterns
and special values."""
import ctypes
import math
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
libm = ctypes.CDLL('libm.so.6')
F, D = ctypes.c_float, ctypes.c_double


def fbits(x):
    return struct.unpack('<I', struct.pack('<f', x))[0]


def dbits(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def from_fbits(b):
    return struct.unpack('<f', struct.pack('<I', b))[0]


def from_dbits(b):
    return struct.unpack('<d', struct.pack('<Q', b))[0]


FSPECIAL = [0x0, 0x80000000, 0x1, 0x807fffff, 0x00800000, 0x3f800000, 0xbf800000,
            0x7f7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc12345,
            0x42f00000, 0xc2cff1b5, 0x42b17218, 0x3f580000, 0x3fa00000, 0x40c00000,
            0x4036db6e, 0x3f490fdb, 0x39800000]
DSPECIAL = [0x0, 0x8000000000000000, 0x1, 0x000fffffffffffff, 0x0010000000000000,
            0x3ff0000000000000, 0xbff0000000000000, 0x7fefffffffffffff,
            0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000,
            0x7ff0000000000001, 0x3feb600000000000, 0x400368fd00000000,
            0x419921fb00000000, 0x3fee000000000000, 0x3ff1090000000000,
            0x4086232bdd7abcd2, 0xc0874910d52d3051, 0x3ff4000000000000]


NEAR = {'logf': math.log, 'expf': math.exp, 'sinf': math.sin, 'cosf': math.cos,
        'sincosf': math.sin}


def near_midpoint(y):
    """How far y lies from a rounding boundary between two floats, in
    float ulps (0 = on it): the float functions compute in double and
    round once, so only such inputs reveal an error in the last bits of
    the double."""
    if y == 0 or not math.isfinite(y):
        return 1.0
    m, e = math.frexp(abs(y))  # y = m * 2^e, m in [0.5, 1)
    scaled = m * 2.0**24
    return abs(scaled - math.floor(scaled) - 0.5)


def float_inputs(rng, kernel, name):
    xs = [from_fbits(b) for b in FSPECIAL]
    xs += [kernel(rng) for _ in range(600)]
    xs += [from_fbits(rng.getrandbits(32)) for _ in range(400)]
    if name in NEAR:  # kernel inputs whose value is near a float midpoint
        hard = []
        while len(hard) < 300:
            x = kernel(rng)
            if near_midpoint(NEAR[name](x)) < 2.0**-10:
                hard.append(x)
        xs += hard
    return xs


def double_inputs(rng, kernel):
    xs = [from_dbits(b) for b in DSPECIAL]
    xs += [kernel(rng) for _ in range(600)]
    xs += [from_dbits(rng.getrandbits(64)) for _ in range(400)]
    return xs


def u24(rng):
    return rng.getrandbits(24) * 2.0**-24


def u53(rng):
    return rng.getrandbits(53) * 2.0**-53


FLOAT_KERNELS = {
    'logf': lambda r: f32(1.0 - u24(r)) or 1.0,          # normal_ fill: log(1 - u)
    'expf': lambda r: f32(-f32(r.uniform(-4, 4)) ** 2),  # erfinv: exp(-x*x)
    'erff': lambda r: f32(r.uniform(-4, 4)),             # erfinv's Newton steps
    'sinf': lambda r: f32(6.283185307179586 * u24(r)),   # theta = 2 pi u
    'cosf': lambda r: f32(6.283185307179586 * u24(r)),
    'sincosf': lambda r: f32(6.283185307179586 * u24(r)),
}
DOUBLE_KERNELS = {
    'log': lambda r: 1.0 - u53(r),                       # normal_: log(1 - u2)
    'exp': lambda r: r.uniform(-745.5, 709.9),
    'erf': lambda r: r.uniform(-6, 6) / math.sqrt(2.0),  # trunc_normal_ bounds
    'sin': lambda r: 6.283185307179586 * u53(r),         # theta = 2 pi u1
    'cos': lambda r: 6.283185307179586 * u53(r),
    'sincos': lambda r: 6.283185307179586 * u53(r),
    'pow': lambda r: u53(r) * 2.0,                       # slope ** 2
}


def write(name, lines):
    with open(os.path.join(HERE, name + '.txt'), 'w') as fh:
        fh.write('# gen_reference.py: %s\n' % os.confstr('CS_GNU_LIBC_VERSION'))
        fh.write('\n'.join(lines) + '\n')


def main():
    for name, kernel in FLOAT_KERNELS.items():
        rng = random.Random(name)
        lines = []
        for x in float_inputs(rng, kernel, name):
            if name == 'sincosf':
                s, c = F(), F()
                libm.sincosf(F(x), ctypes.byref(s), ctypes.byref(c))
                lines.append('%08x %08x %08x' % (fbits(x), fbits(s.value), fbits(c.value)))
            else:
                fn = getattr(libm, name)
                fn.restype, fn.argtypes = F, [F]
                lines.append('%08x %08x' % (fbits(x), fbits(fn(x))))
        write(name, lines)
    for name, kernel in DOUBLE_KERNELS.items():
        rng = random.Random(name)
        lines = []
        for x in double_inputs(rng, kernel):
            if name == 'sincos':
                s, c = D(), D()
                libm.sincos(D(x), ctypes.byref(s), ctypes.byref(c))
                lines.append('%016x %016x %016x' % (dbits(x), dbits(s.value), dbits(c.value)))
            elif name == 'pow':
                y = 2.0 if rng.random() < 0.5 else rng.uniform(-20, 20)
                libm.pow.restype, libm.pow.argtypes = D, [D, D]
                lines.append('%016x %016x %016x' % (dbits(x), dbits(y), dbits(libm.pow(x, y))))
            else:
                fn = getattr(libm, name)
                fn.restype, fn.argtypes = D, [D]
                lines.append('%016x %016x' % (dbits(x), dbits(fn(x))))
        write(name, lines)


main()
