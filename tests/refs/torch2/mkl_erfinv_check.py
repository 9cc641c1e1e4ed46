#!/usr/bin/env python3
"""torch.erfinv of a PyPI wheel is MKL's vmsErfInv in HA mode (aten/src/ATen/cpu/vml.h:
IMPLEMENT_VML_MKL(erfinv, ErfInv) with VML_HA | VML_FTZDAZ_OFF | VML_ERRMODE_IGNORE),
whatever the chunking, thread count or layout: run with a venv's python."""
import ctypes, torch, numpy as np, os, sys
lib = ctypes.CDLL(os.path.join(os.path.dirname(torch.__file__), 'lib', 'libtorch_cpu.so'))
buf = ctypes.create_string_buffer(256); lib.MKL_Get_Version_String(buf, 256); print(buf.value.decode())
torch.set_num_threads(1)
x = np.random.default_rng(0).uniform(-1, 1, 1 << 22).astype(np.float32)
def vml(mode):
    y = np.empty_like(x)
    lib.vmsErfInv(ctypes.c_int(x.size), x.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p), ctypes.c_longlong(mode))
    return y
HA, LA, EP, FTZOFF, IGN = 0x2, 0x1, 0x3, 0x140000, 0x100
t = torch.erfinv(torch.from_numpy(x)).numpy()
for name, m in [("HA", HA), ("LA", LA), ("EP", EP)]:
    y = vml(m | FTZOFF | IGN)
    print('torch.erfinv vs vmsErfInv(%s): %d of %d differ' % (name, (t.view(np.uint32) != y.view(np.uint32)).sum(), x.size))
# element-by-element (size-1 calls) against bulk
y1 = np.array([torch.erfinv(torch.tensor([v])).item() for v in x[:20000]], dtype=np.float32)
print('size-1 calls vs bulk: %d of 20000 differ' % (y1.view(np.uint32) != t[:20000].view(np.uint32)).sum())
torch.set_num_threads(2)
t2 = torch.erfinv(torch.from_numpy(x)).numpy()
print('2 threads vs 1: %d differ' % (t2.view(np.uint32) != t.view(np.uint32)).sum())
xs = torch.from_numpy(x).reshape(2048, 2048).t()
ts = torch.erfinv(xs).t().contiguous().reshape(-1).numpy()
print('non-contiguous input vs contiguous: %d differ' % (ts.view(np.uint32) != t.view(np.uint32)).sum())
