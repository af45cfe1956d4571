import os, tempfile
import sys, time, warnings
if "noscript" in sys.argv: sys.modules["onnxscript"] = None
import torch, numpy as np
warnings.simplefilter("always")
class M(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.c = torch.nn.Conv2d(1, 4, 3); s.l = torch.nn.Linear(4 * 26 * 26, 10)
    def forward(s, x): return s.l(torch.relu(s.c(x)).flatten(1))
m = M().eval(); x = torch.randn(2, 1, 28, 28)
for dynamo in (True, False):
    t0 = time.time()
    try:
        with warnings.catch_warnings(record=True) as w:
            torch.onnx.export(m, (x,), os.path.join(tempfile.gettempdir(), f"m_{dynamo}.onnx"), dynamo=dynamo, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "b"}, "y": {0: "b"}} if not dynamo else None,
                              dynamic_shapes=({0: torch.export.Dim("b")},) if dynamo else None)
        import onnxruntime as ort
        s = ort.InferenceSession(os.path.join(tempfile.gettempdir(), f"m_{dynamo}.onnx"))
        xb = torch.randn(3, 1, 28, 28)
        y = s.run(None, {s.get_inputs()[0].name: xb.numpy()})[0]
        print(f"dynamo={dynamo}: OK {time.time()-t0:.1f}s maxdiff={np.abs(y - m(xb).detach().numpy()).max():.2e}",
              "warnings:", sorted({str(x.category.__name__) + ': ' + str(x.message)[:160] for x in w}))
    except Exception as e:
        print(f"dynamo={dynamo}: FAIL {type(e).__name__}: {str(e)[:300]}")
