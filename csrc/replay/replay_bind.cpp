// pybind11 glue for hubkit::replay::ReplayCore: NumPy arrays in and out.
//
// Python (python/hubkit/rl/replay.py) has already checked shapes, dtypes and
// values; the checks here only keep a wrong call from reading out of bounds.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "replay/replay.h"

namespace py = pybind11;

namespace hubkit::replay {
namespace {

using F32 = py::array_t<float, py::array::c_style>;
using F64 = py::array_t<double, py::array::c_style>;
using I64 = py::array_t<std::int64_t, py::array::c_style>;
using Bool = py::array_t<bool, py::array::c_style>;

constexpr std::size_t kReleaseGilBytes = 4096;

void expect(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

// The C++ buffer as Python sees it: the core plus the NumPy dtypes and shapes of its fields.
class PyReplay {
 public:
  PyReplay(std::size_t capacity, std::vector<py::ssize_t> obs_shape, py::dtype obs_dtype,
           std::vector<py::ssize_t> action_shape, py::dtype action_dtype, bool prioritized,
           double alpha)
      : obs_shape_(std::move(obs_shape)), action_shape_(std::move(action_shape)),
        obs_dtype_(std::move(obs_dtype)), action_dtype_(std::move(action_dtype)),
        core_(capacity, count(obs_shape_) * obs_dtype_.itemsize(),
              count(action_shape_) * action_dtype_.itemsize(), prioritized, alpha) {
    expect(capacity > 0, "capacity: must be positive");
  }

  void add(const py::array& obs, const py::array& action, const F32& reward,
           const py::array& next_obs, const Bool& done) {
    const std::size_t n = static_cast<std::size_t>(reward.size());
    check_rows("obs", obs, n, core_.obs_bytes);
    check_rows("action", action, n, core_.action_bytes);
    check_rows("next_obs", next_obs, n, core_.obs_bytes);
    expect(static_cast<std::size_t>(done.size()) == n, "done: wrong number of rows");
    Rows rows{static_cast<const std::uint8_t*>(obs.data()),
              static_cast<const std::uint8_t*>(action.data()), reward.data(),
              static_cast<const std::uint8_t*>(next_obs.data()), done.data()};
    py::gil_scoped_release release;
    core_.add(rows, n);
  }

  // The fast path of add(): exact types only. One transition: arrays of the buffer's
  // dtype and shape, a Python float/int reward, a Python bool done, a Python int or
  // float for a scalar action. A batch of N: C-contiguous (N, ...) arrays of the exact
  // dtypes, reward float32 or float64 (N,), done bool (N,). Returns false, changing
  // nothing, for anything else; Python then converts or raises its ValueError.
  bool try_add(py::handle obs, py::handle action, py::handle reward, py::handle next_obs,
               py::handle done) {
    const auto& npy = py::detail::npy_api::get();
    if (npy.PyArray_Check_(obs.ptr()) &&
        py::detail::array_proxy(obs.ptr())->nd == static_cast<int>(obs_shape_.size()) + 1) {
      return try_add_batch(obs, action, reward, next_obs, done);
    }
    const void* o = exact(obs, obs_dtype_, obs_shape_);
    const void* no = exact(next_obs, obs_dtype_, obs_shape_);
    Scalar a;
    const void* ap = npy.PyArray_Check_(action.ptr()) ? exact(action, action_dtype_, action_shape_)
                                                      : scalar_action(action, a);
    float r = 0.0f;
    if (o == nullptr || no == nullptr || ap == nullptr || !finite_reward(reward, r)) return false;
    if (done.ptr() != Py_True && done.ptr() != Py_False) return false;
    const bool d = done.ptr() == Py_True;
    write({static_cast<const std::uint8_t*>(o), static_cast<const std::uint8_t*>(ap), &r,
           static_cast<const std::uint8_t*>(no), &d}, 1);
    return true;
  }

  py::tuple sample(std::size_t n, std::uint64_t seed, double beta) {
    expect(n > 0 && n <= core_.size(), "batch_size: must be in [1, len(buffer)]");
    auto arrays = outputs(n);
    OutRows out = out_rows(arrays);
    {
      py::gil_scoped_release release;
      core_.sample(n, seed, beta, out);
    }
    return arrays;
  }

  void update_priorities(const I64& indices, const F64& priorities) {
    expect(core_.prioritized, "update_priorities: this buffer is not prioritized");
    expect(indices.size() == priorities.size(), "priorities: one per index");
    const std::size_t size = core_.size();
    for (py::ssize_t k = 0; k < indices.size(); ++k) {
      expect(indices.data()[k] >= 0 && static_cast<std::size_t>(indices.data()[k]) < size,
             "indices: out of range");
    }
    py::gil_scoped_release release;
    core_.update_priorities(indices.data(), priorities.data(), indices.size());
  }

  py::dict state() {
    const std::size_t cap = core_.capacity;
    py::array obs(obs_dtype_, full_shape(cap, obs_shape_));
    py::array action(action_dtype_, full_shape(cap, action_shape_));
    py::array next_obs(obs_dtype_, full_shape(cap, obs_shape_));
    F32 reward(cap);
    Bool done(cap);
    F64 leaves(core_.prioritized ? cap : 0);
    ReplayCore::State s = core_.get_state(
        static_cast<std::uint8_t*>(obs.mutable_data()),
        static_cast<std::uint8_t*>(action.mutable_data()), reward.mutable_data(),
        static_cast<std::uint8_t*>(next_obs.mutable_data()), done.mutable_data(),
        leaves.mutable_data());
    py::dict d;
    d["obs"] = obs, d["action"] = action, d["reward"] = reward, d["next_obs"] = next_obs;
    d["done"] = done, d["size"] = s.size, d["pos"] = s.pos, d["rng_state"] = s.rng_state;
    if (core_.prioritized) d["leaves"] = leaves, d["max_priority"] = s.max_priority;
    return d;
  }

  void load(const py::array& obs, const py::array& action, const F32& reward,
            const py::array& next_obs, const Bool& done, const F64& leaves, std::size_t size,
            std::size_t pos, std::uint64_t rng_state, double max_priority) {
    const std::size_t cap = core_.capacity;
    check_rows("obs", obs, cap, core_.obs_bytes);
    check_rows("action", action, cap, core_.action_bytes);
    check_rows("next_obs", next_obs, cap, core_.obs_bytes);
    expect(static_cast<std::size_t>(reward.size()) == cap, "reward: wrong number of rows");
    expect(static_cast<std::size_t>(done.size()) == cap, "done: wrong number of rows");
    expect(!core_.prioritized || static_cast<std::size_t>(leaves.size()) == cap,
           "leaves: wrong number of rows");
    expect(size <= cap && pos < cap, "size, pos: out of range");
    Rows rows{static_cast<const std::uint8_t*>(obs.data()),
              static_cast<const std::uint8_t*>(action.data()), reward.data(),
              static_cast<const std::uint8_t*>(next_obs.data()), done.data()};
    py::gil_scoped_release release;
    core_.set_state({size, pos, rng_state, max_priority}, rows, leaves.data());
  }

  std::uint64_t next_seed() { return core_.next_seed(); }
  void set_rng_state(std::uint64_t s) { core_.set_rng_state(s); }
  std::size_t size() { return core_.size(); }
  std::size_t pos() { return core_.pos(); }
  std::size_t capacity() const { return core_.capacity; }

 private:
  bool try_add_batch(py::handle obs, py::handle action, py::handle reward, py::handle next_obs,
                     py::handle done) {
    const auto n = py::detail::array_proxy(obs.ptr())->dimensions[0];
    auto with_rows = [n](const std::vector<py::ssize_t>& shape) {
      std::vector<py::ssize_t> full{n};
      full.insert(full.end(), shape.begin(), shape.end());
      return full;
    };
    static const py::dtype f32 = py::dtype::of<float>(), f64 = py::dtype::of<double>(),
                           b8 = py::dtype::of<bool>();
    const void* o = exact(obs, obs_dtype_, with_rows(obs_shape_));
    const void* no = exact(next_obs, obs_dtype_, with_rows(obs_shape_));
    const void* ap = exact(action, action_dtype_, with_rows(action_shape_));
    const void* dp = exact(done, b8, {n});
    const void* r32 = exact(reward, f32, {n});
    const void* r64 = r32 == nullptr ? exact(reward, f64, {n}) : nullptr;
    if (n == 0 || !o || !no || !ap || !dp || (!r32 && !r64)) return false;
    std::vector<float> r(static_cast<std::size_t>(n));
    for (py::ssize_t i = 0; i < n; ++i) {
      r[i] = r32 ? static_cast<const float*>(r32)[i]
                 : static_cast<float>(static_cast<const double*>(r64)[i]);
      if (!std::isfinite(r[i])) return false;
    }
    write({static_cast<const std::uint8_t*>(o), static_cast<const std::uint8_t*>(ap), r.data(),
           static_cast<const std::uint8_t*>(no), static_cast<const bool*>(dp)},
          static_cast<std::size_t>(n));
    return true;
  }

  // subtle: copying a few hundred bytes takes less time than handing the GIL over and
  // back, so small writes keep the GIL (the core's mutex still guards them, and the core
  // never waits for the GIL while holding its mutex, so this cannot deadlock).
  void write(const Rows& rows, std::size_t n) {
    if (n * core_.obs_bytes < kReleaseGilBytes) {
      core_.add(rows, n);
    } else {
      py::gil_scoped_release release;
      core_.add(rows, n);
    }
  }

  union Scalar {
    std::int64_t i64;
    double f64;
    float f32;
  };

  // The data of h if it is a C-contiguous ndarray of exactly this dtype and shape.
  // Reads NumPy's array struct directly: this runs on every add of an env loop.
  static const void* exact(py::handle h, const py::dtype& dtype,
                           const std::vector<py::ssize_t>& shape) {
    if (!py::detail::npy_api::get().PyArray_Check_(h.ptr())) return nullptr;
    const auto* a = py::detail::array_proxy(h.ptr());
    if (a->nd != static_cast<int>(shape.size()) ||
        (a->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) == 0) {
      return nullptr;
    }
    for (std::size_t k = 0; k < shape.size(); ++k) {
      if (a->dimensions[k] != shape[k]) return nullptr;
    }
    if (a->descr != dtype.ptr() && !py::reinterpret_borrow<py::dtype>(a->descr).equal(dtype)) {
      return nullptr;
    }
    return a->data;
  }

  const void* scalar_action(py::handle h, Scalar& a) const {
    if (!action_shape_.empty()) return nullptr;
    const char kind = action_dtype_.kind();
    const auto size = action_dtype_.itemsize();
    if (PyLong_CheckExact(h.ptr()) && kind == 'i' && size == 8) {
      a.i64 = PyLong_AsLongLong(h.ptr());
      if (a.i64 == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return nullptr;
      }
      return &a.i64;
    }
    if (PyFloat_CheckExact(h.ptr()) && kind == 'f' && (size == 8 || size == 4)) {
      a.f64 = PyFloat_AS_DOUBLE(h.ptr());
      if (size == 4) a.f32 = static_cast<float>(a.f64);
      return &a;
    }
    return nullptr;
  }

  static bool finite_reward(py::handle h, float& r) {
    double v;
    if (PyFloat_Check(h.ptr())) {
      v = PyFloat_AS_DOUBLE(h.ptr());
    } else if (PyLong_CheckExact(h.ptr())) {
      v = PyLong_AsDouble(h.ptr());
      if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return false;
      }
    } else {
      return false;
    }
    r = static_cast<float>(v);
    return std::isfinite(r);
  }

  static std::size_t count(const std::vector<py::ssize_t>& shape) {
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    return n;
  }
  static std::vector<py::ssize_t> full_shape(std::size_t n, const std::vector<py::ssize_t>& s) {
    std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(n)};
    shape.insert(shape.end(), s.begin(), s.end());
    return shape;
  }
  static void check_rows(const char* name, const py::array& a, std::size_t n, std::size_t bytes) {
    expect((a.flags() & py::array::c_style) != 0, std::string(name) + ": must be C-contiguous");
    expect(static_cast<std::size_t>(a.nbytes()) == n * bytes,
           std::string(name) + ": wrong number of bytes");
  }

  py::tuple outputs(std::size_t n) {
    const bool pri = core_.prioritized;
    py::tuple t(pri ? 7 : 6);
    t[0] = py::array(obs_dtype_, full_shape(n, obs_shape_));
    t[1] = py::array(action_dtype_, full_shape(n, action_shape_));
    t[2] = F32(n);
    t[3] = py::array(obs_dtype_, full_shape(n, obs_shape_));
    t[4] = Bool(n);
    t[5] = I64(n);
    if (pri) t[6] = F32(n);
    return t;
  }
  OutRows out_rows(const py::tuple& t) {
    auto ptr = [&](int i) { return py::array(t[i]).mutable_data(); };
    return OutRows{static_cast<std::uint8_t*>(ptr(0)), static_cast<std::uint8_t*>(ptr(1)),
                   static_cast<float*>(ptr(2)), static_cast<std::uint8_t*>(ptr(3)),
                   static_cast<bool*>(ptr(4)), static_cast<std::int64_t*>(ptr(5)),
                   core_.prioritized ? static_cast<float*>(ptr(6)) : nullptr};
  }

  std::vector<py::ssize_t> obs_shape_, action_shape_;
  py::dtype obs_dtype_, action_dtype_;
  ReplayCore core_;
};

}  // namespace

void bind_replay(py::module_& m) {
  py::class_<PyReplay>(m, "ReplayCore", "Ring buffer of transitions (+ sum tree when prioritized)")
      .def(py::init<std::size_t, std::vector<py::ssize_t>, py::dtype, std::vector<py::ssize_t>,
                    py::dtype, bool, double>(),
           py::arg("capacity"), py::arg("obs_shape"), py::arg("obs_dtype"),
           py::arg("action_shape"), py::arg("action_dtype"), py::arg("prioritized"),
           py::arg("alpha"))
      .def("add", &PyReplay::add, py::arg("obs"), py::arg("action"), py::arg("reward"),
           py::arg("next_obs"), py::arg("done"))
      .def("try_add", &PyReplay::try_add, py::arg("obs"), py::arg("action"),
           py::arg("reward"), py::arg("next_obs"), py::arg("done"))
      .def("sample", &PyReplay::sample, py::arg("batch_size"), py::arg("seed"), py::arg("beta"))
      .def("update_priorities", &PyReplay::update_priorities, py::arg("indices"),
           py::arg("priorities"))
      .def("state", &PyReplay::state)
      .def("load", &PyReplay::load, py::arg("obs"), py::arg("action"), py::arg("reward"),
           py::arg("next_obs"), py::arg("done"), py::arg("leaves"), py::arg("size"),
           py::arg("pos"), py::arg("rng_state"), py::arg("max_priority"))
      .def("next_seed", &PyReplay::next_seed)
      .def("set_rng_state", &PyReplay::set_rng_state, py::arg("state"))
      .def("__len__", &PyReplay::size)
      .def_property_readonly("pos", &PyReplay::pos)
      .def_property_readonly("capacity", &PyReplay::capacity);
}

}  // namespace hubkit::replay
