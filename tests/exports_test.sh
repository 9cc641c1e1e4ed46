#!/bin/sh
# The library exports only wi_* symbols (plus the ELF boilerplate), and
# the built-in plugins export only their descriptor.
set -eu
lib=$1
plugindir=$2
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^wi_' | grep -v '^_init$\|^_fini$' || true)
if [ -n "$bad" ]; then echo "non-wi_ exports in $lib:"; echo "$bad"; exit 1; fi
n=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -c '^wi_priv_' || true)
[ "$n" -eq 0 ] || { echo "internal wi_priv_ symbols exported"; exit 1; }
# Results never depend on the host libm: every transcendental function is
# core/math's own (sqrt and fma are exactly rounded and may come from libm).
libm=$(nm -D --undefined-only "$lib" | awk '{print $2}' | sed 's/@.*//' |
       grep -x 'logf\|sinf\|cosf\|sincosf\|expf\|erff\|log\|sin\|cos\|sincos\|erf\|exp\|pow\|powf' || true)
if [ -n "$libm" ]; then echo "$lib imports math functions from libm:"; echo "$libm"; exit 1; fi
for p in "$plugindir"/*.so; do
    m=$(nm -D --undefined-only "$p" | awk '{print $2}' | sed 's/@.*//' |
        grep -x 'logf\|sinf\|cosf\|sincosf\|expf\|erff\|log\|sin\|cos\|sincos\|erf\|exp\|pow\|powf' || true)
    if [ -n "$m" ]; then echo "$p imports math functions from libm:"; echo "$m"; exit 1; fi
done
for p in "$plugindir"/*.so; do
    extra=$(nm -D --defined-only "$p" | awk '{print $3}' | grep -v '^wi_plugin_descriptor$' | grep -v '^_init$\|^_fini$' || true)
    if [ -n "$extra" ]; then echo "$p exports more than its descriptor:"; echo "$extra"; exit 1; fi
done
echo "exports: $(nm -D --defined-only "$lib" | grep -c ' wi_') wi_ symbols, nothing else; plugins export only wi_plugin_descriptor; no libm transcendentals imported"
