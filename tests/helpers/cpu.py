"""What the CPU running the tests can do."""

import pytest

from ganforge.engine.performance import cpu_has_native_bf16

#: for tests that train in bf16 for long: where bf16 is emulated (AVX2-only CPUs) oneDNN falls
#: back to reference kernels, hundreds of times slower than fp32
needs_native_bf16 = pytest.mark.skipif(
    not cpu_has_native_bf16(), reason="bf16 is emulated on this CPU (no AVX-512 / AMX)"
)
