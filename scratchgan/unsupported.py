"""What PyTorch has and scratchgan does not (yet), each with the nearest scratchgan equivalent.

``Tensor.__getattr__``, ``scratchgan.__getattr__`` and ``scratchgan.nn.__getattr__`` look names
up here, so a PyTorch habit gets a sentence saying what to do instead of a bare AttributeError.
"""

_INPLACE = "this in-place op is not provided"
TENSOR_METHODS = {
    **{
        name: f"{_INPLACE}; use the out-of-place {name[:-1]}() and rebind: x = x.{name[:-1]}(...)"
        for name in "squeeze_ unsqueeze_ t_ transpose_ floor_ round_".split()
    },
    "masked_fill_": f"{_INPLACE}; use sg.where(mask, value, x)",
    "masked_fill": "masked_fill is not provided; use sg.where(mask, value, x)",
    "index_select": "index_select is not provided; index with an integer tensor: x[idx] (dim 0)",
    "gather": "gather is not provided; use advanced indexing, e.g. x[sg.arange(n), idx]",
    "scatter": "scatter is not provided; build the result with sg.where or indexing",
    "scatter_add": "scatter_add is not provided; use indexing or a one-hot matmul",
    "cumsum": "cumsum is not provided; use a matmul with a triangular matrix of ones (np.tril)",
    "topk": "topk is not provided; sort on the host with np.argsort(x.numpy())",
    "sort": "sort is not provided; use np.sort(x.numpy()) (not differentiable)",
    "half": "float16 training is not supported; use .float() (float32) or .double()",
    "bfloat16": "bfloat16 is not supported; use .float() (float32) or .double()",
    "storage": "tensors have no separate storage object; the array is x.array",
    "data_ptr": "data_ptr is not provided; x.array is the NumPy/CuPy array (x.array.ctypes.data "
    "on CPU)",
    "pin_memory": "pinned memory is not supported; copies go through .to(device)",
    "share_memory_": "shared memory is not supported",
    "retain_grad": "retain_grad is not supported yet; use sg.grad(loss, x) or x.register_hook(fn)",
    "new_zeros": "new_zeros is not provided; use sg.zeros(shape, dtype=x.dtype, device=x.device)",
    "new_ones": "new_ones is not provided; use sg.ones(shape, dtype=x.dtype, device=x.device)",
    "new_full": "new_full is not provided; use sg.full(shape, v, dtype=x.dtype, device=x.device)",
    "new_tensor": "new_tensor is not provided; use sg.tensor(data, dtype=x.dtype, device=x.device)",
    "index_add_": f"{_INPLACE}",
    "is_contiguous": "scratchgan does not track strides for autograd; x.array.flags.c_contiguous "
    "says",
    "stride": "strides are not part of the Tensor API; x.array.strides gives the NumPy strides "
    "(bytes)",
}


TORCH_FUNCTIONS = {
    "einsum": "einsum is not provided; write it with matmul, permute and reshape",
    "tensordot": "tensordot is not provided; reshape and use sg.matmul",
    "outer": "outer is not provided; use a.unsqueeze(1) * b.unsqueeze(0)",
    "cumsum": "cumsum is not provided; use a matmul with a triangular matrix of ones",
    "topk": "topk is not provided; use np.argsort on x.numpy() (not differentiable)",
    "sort": "sort is not provided; use np.sort on x.numpy() (not differentiable)",
    "randperm": "randperm is not provided; use np.random.default_rng(seed).permutation(n)",
    "bernoulli": "bernoulli is not provided; use (sg.rand(shape) < p)",
    "normal": "normal is not provided; use mean + std * sg.randn(shape)",
    "multinomial": "multinomial is not provided; sample on the host with numpy",
    "distributions": "torch.distributions is not provided; sample with sg.randn / sg.rand and "
    "write the log-density",
    "jit": "there is no JIT: scratchgan runs eagerly; call the module directly",
    "compile": "there is no compiler: scratchgan runs eagerly; call the module directly",
    "autocast": "mixed precision is not supported; train in float32 (or float64)",
    "amp": "mixed precision is not supported; train in float32 (or float64)",
    "utils": "torch.utils.data maps to sg.data (sg.data.DataLoader); torch.utils.checkpoint is "
    "not provided",
    "set_default_dtype": "a global default dtype is not supported; pass dtype= (floats default "
    "to float32)",
    "HalfTensor": "float16 tensors are not supported; use sg.FloatTensor or sg.DoubleTensor",
    "linalg": "torch.linalg is not provided; use numpy.linalg on x.numpy() (not differentiable)",
    "fft": "torch.fft is not provided; use numpy.fft on x.numpy() (not differentiable)",
    "vmap": "vmap is not provided; write the batch dimension explicitly",
    "func": "torch.func is not provided; use sg.grad (with create_graph=True for higher "
    "derivatives)",
    "masked_fill": "masked_fill is not provided; use sg.where(mask, value, x)",
    "index_select": "index_select is not provided; index with an integer tensor: x[idx]",
    "gather": "gather is not provided; use advanced indexing, e.g. x[sg.arange(n), idx]",
}

NN_NAMES = {
    "DataParallel": "multi-GPU training is not supported; use one device",
    "parallel": "multi-GPU training is not supported; use one device",
    "GRU": "GRU is not provided; nn.LSTM is",
    "RNN": "RNN is not provided; nn.LSTM is",
    "Transformer": "Transformer layers are not provided",
    "MultiheadAttention": "attention layers are not provided; compose them from nn.Linear and "
    "softmax",
    "Conv1d": "Conv1d is not provided; use nn.Conv2d with a height of 1",
    "Conv3d": "Conv3d is not provided; scratchgan's convolutions are 2-D",
    "BatchNorm3d": "BatchNorm3d is not provided; nn.BatchNorm1d and nn.BatchNorm2d are",
    "GroupNorm": "GroupNorm is not provided; nn.InstanceNorm2d, nn.LayerNorm and nn.BatchNorm2d "
    "are",
    "PReLU": "PReLU is not provided; nn.LeakyReLU (a fixed slope) is",
    "GELU": "GELU is not provided; nn.ELU, nn.SELU, nn.LeakyReLU are",
    "ReflectionPad2d": "padding layers are not provided; pass padding= to nn.Conv2d",
    "ZeroPad2d": "padding layers are not provided; pass padding= to nn.Conv2d",
    "PixelShuffle": "PixelShuffle is not provided; use nn.ConvTranspose2d or nn.Upsample",
    "ParameterList": "ParameterList is not provided; register Parameters as attributes or use "
    "nn.ModuleList",
    "ParameterDict": "ParameterDict is not provided; register Parameters as attributes",
    "ModuleDict": "ModuleDict is not provided; use attributes or nn.ModuleList",
    "HingeEmbeddingLoss": "this loss is not provided; write it from sg.clamp and mean",
    "TripletMarginLoss": "this loss is not provided; write it from norm, sg.clamp and mean",
}
