// pybind11 glue for hubkit::bpe: Python lists of str in, lists and NumPy arrays out.
//
// Python (python/hubkit/tokenizers) has already checked the arguments. The
// chunks' UTF-8 bytes are copied into one buffer while the GIL is held; the
// work then runs with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

#include "bpe/bpe.h"
#include "bpe/pretokenize.h"

namespace py = pybind11;

namespace hubkit::bpe {
namespace {

// The chunks' bytes, owned, and views into them.
struct ChunkBuffer {
  std::string bytes;
  Chunks views;
};

ChunkBuffer copy_chunks(const py::list& chunks) {
  ChunkBuffer buf;
  std::vector<std::size_t> ends;
  ends.reserve(chunks.size());
  for (const auto& item : chunks) {
    if (!PyUnicode_Check(item.ptr())) throw std::invalid_argument("chunks: every item must be a str");
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(item.ptr(), &size);
    if (data == nullptr) throw py::error_already_set();
    buf.bytes.append(data, static_cast<std::size_t>(size));
    ends.push_back(buf.bytes.size());
  }
  buf.views.reserve(ends.size());
  std::size_t start = 0;
  for (const auto end : ends) {
    buf.views.emplace_back(buf.bytes.data() + start, end - start);
    start = end;
  }
  return buf;
}

std::vector<Pair> train_py(const py::list& chunks, std::int64_t num_merges, int threads) {
  if (num_merges < 0) throw std::invalid_argument("num_merges: must be >= 0");
  const ChunkBuffer buf = copy_chunks(chunks);
  py::gil_scoped_release release;
  return train(buf.views, num_merges, threads);
}

py::tuple encode_py(const Encoder& enc, const py::list& chunks, int threads) {
  const ChunkBuffer buf = copy_chunks(chunks);
  std::vector<std::int32_t> ids;
  std::vector<std::int64_t> offsets;
  {
    py::gil_scoped_release release;
    enc.encode(buf.views, threads, ids, offsets);
  }
  py::array_t<std::int32_t> ids_arr(static_cast<py::ssize_t>(ids.size()));
  std::copy(ids.begin(), ids.end(), ids_arr.mutable_data());
  py::array_t<std::int64_t> off_arr(static_cast<py::ssize_t>(offsets.size()));
  std::copy(offsets.begin(), offsets.end(), off_arr.mutable_data());
  return py::make_tuple(ids_arr, off_arr);
}

py::array_t<std::int64_t> to_array(const std::vector<std::int64_t>& v) {
  py::array_t<std::int64_t> arr(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), arr.mutable_data());
  return arr;
}

// The chunks of every text, and chunk_starts[t]: the index of text t's first chunk (size T + 1).
Chunks split_all(const Pretokenizer& pre, const Chunks& texts, std::vector<std::size_t>& starts) {
  Chunks chunks;
  starts.assign(1, 0);
  for (const auto text : texts) {
    pre.split(text, chunks);
    starts.push_back(chunks.size());
  }
  return chunks;
}

std::vector<Pair> train_texts_py(const Pretokenizer& pre, const py::list& texts,
                                 std::int64_t num_merges, int threads) {
  if (num_merges < 0) throw std::invalid_argument("num_merges: must be >= 0");
  const ChunkBuffer buf = copy_chunks(texts);
  py::gil_scoped_release release;
  std::vector<std::size_t> starts;
  return train(split_all(pre, buf.views, starts), num_merges, threads);
}

py::tuple encode_texts_py(const Encoder& enc, const Pretokenizer& pre, const py::list& texts,
                          int threads) {
  const ChunkBuffer buf = copy_chunks(texts);
  std::vector<std::int32_t> ids;
  std::vector<std::int64_t> chunk_offsets, text_offsets;
  {
    py::gil_scoped_release release;
    std::vector<std::size_t> starts;
    const Chunks chunks = split_all(pre, buf.views, starts);
    enc.encode(chunks, threads, ids, chunk_offsets);
    for (const auto s : starts) text_offsets.push_back(chunk_offsets[s]);
  }
  py::array_t<std::int32_t> ids_arr(static_cast<py::ssize_t>(ids.size()));
  std::copy(ids.begin(), ids.end(), ids_arr.mutable_data());
  return py::make_tuple(ids_arr, to_array(text_offsets));
}

py::list split_py(const Pretokenizer& pre, const py::str& text) {
  py::list one;
  one.append(text);
  const ChunkBuffer buf = copy_chunks(one);
  Chunks chunks;
  pre.split(buf.views[0], chunks);
  py::list out;
  for (const auto c : chunks) out.append(py::str(c.data(), c.size()));
  return out;
}

}  // namespace

void bind_bpe(py::module_& m) {
  m.def("bpe_train", &train_py, py::arg("chunks"), py::arg("num_merges"), py::arg("threads"),
        "Merges [(id_a, id_b), ...] learned from a list of str chunks (GIL released)");
  py::class_<Encoder>(m, "BPEEncoder")
      .def(py::init<const std::vector<Pair>&>(), py::arg("merges"))
      .def("encode", &encode_py, py::arg("chunks"), py::arg("threads"),
           "(ids int32 (total,), offsets int64 (N + 1,)) of a list of N str chunks")
      .def("encode_texts", &encode_texts_py, py::arg("pretokenizer"), py::arg("texts"),
           py::arg("threads"),
           "(ids int32 (total,), offsets int64 (T + 1,)) of T texts, split in C++");
  py::class_<Pretokenizer>(m, "BPEPretokenizer")
      .def(py::init([](const py::array_t<std::uint8_t, py::array::c_style>& table, int kind) {
             return Pretokenizer(table.data(), static_cast<std::size_t>(table.size()), kind);
           }),
           py::arg("table"), py::arg("kind"))
      .def("split", &split_py, py::arg("text"), "the chunks of `text` (as regex.findall)");
  m.def("bpe_train_texts", &train_texts_py, py::arg("pretokenizer"), py::arg("texts"),
        py::arg("num_merges"), py::arg("threads"),
        "Merges learned from texts split in C++ by the GPT-2 or GPT-4 pattern (GIL released)");
}

}  // namespace hubkit::bpe
