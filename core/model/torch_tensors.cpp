#include "core/model/torch_tensors.h"

#include "core/util/error.h"

#include <torch/torch.h>

#include <cstring>
#include <sstream>

namespace fovea {

namespace {

std::string shapeText(c10::IntArrayRef shape) {
    std::ostringstream out;
    out << "[";
    for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? "," : "") << shape[i];
    out << "]";
    return out.str();
}

}  // namespace

at::Tensor toFloatTensor(const TensorView& view) {
    at::ScalarType type = at::kFloat;
    switch (view.dtype) {
        case DType::F32: type = at::kFloat; break;
        case DType::F16: type = at::kHalf; break;
        case DType::BF16: type = at::kBFloat16; break;
        case DType::F64: type = at::kDouble; break;
        case DType::I64: type = at::kLong; break;
        case DType::I32: type = at::kInt; break;
        case DType::U8: type = at::kByte; break;
        case DType::Bool: type = at::kBool; break;
    }
    // The mapping is read-only; from_blob only borrows it and the copy below owns the data.
    at::Tensor borrowed = torch::from_blob(const_cast<std::uint8_t*>(view.data), view.shape,
                                           torch::TensorOptions().dtype(type));
    return borrowed.to(at::kFloat).clone();
}

void expectShape(const std::string& file, const std::string& name, const at::Tensor& tensor,
                 const std::vector<int64_t>& shape) {
    if (tensor.sizes() != c10::IntArrayRef(shape)) {
        throw Error(file, "tensor '" + name + "' has shape " + shapeText(tensor.sizes()) + ", expected " +
                              shapeText(shape));
    }
}

TensorData toTensorData(const std::string& name, const at::Tensor& tensor) {
    at::Tensor data = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
    TensorData out;
    out.name = name;
    out.dtype = DType::F32;
    out.shape.assign(data.sizes().begin(), data.sizes().end());
    out.bytes.resize(std::size_t(data.numel()) * sizeof(float));
    if (!out.bytes.empty()) std::memcpy(out.bytes.data(), data.data_ptr<float>(), out.bytes.size());
    return out;
}

at::Tensor TensorTaker::take(const std::string& name) {
    const TensorView* view = m_file.find(name);
    if (!view) throw Error(m_file.path(), "missing tensor '" + name + "'");
    m_used.insert(name);
    return toFloatTensor(*view);
}

std::vector<int64_t> TensorTaker::shape(const std::string& name) const {
    const TensorView* view = m_file.find(name);
    if (!view) throw Error(m_file.path(), "missing tensor '" + name + "'");
    return view->shape;
}

void TensorTaker::expectAllUsed() const {
    for (const TensorView& view : m_file.tensors()) {
        if (!m_used.count(view.name)) {
            throw Error(m_file.path(), "unexpected tensor '" + view.name + "': " + m_what +
                                           " is not supported by Fovea's native implementation");
        }
    }
}

}  // namespace fovea
