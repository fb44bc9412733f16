// hubkit._mujoco: the C++ vector env, built only when the mujoco wheel (with
// its headers and libmujoco) is installed at build time. Python validates
// arguments first (python/hubkit/envs/vector.py); shape checks here are a backstop.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "vec_env.h"

namespace py = pybind11;
using hubkit::mjenv::kInfoNames;
using hubkit::mjenv::kNumInfo;
using hubkit::mjenv::Task;
using hubkit::mjenv::TaskParams;
using hubkit::mjenv::VecEnv;
using darray = py::array_t<double, py::array::c_style | py::array::forcecast>;

namespace {

TaskParams params_from_dict(const py::dict& d) {
  TaskParams p;
  auto f = [&](const char* k) { return d[k].cast<double>(); };
  p.task = static_cast<Task>(d["task"].cast<int>());
  p.frame_skip = d["frame_skip"].cast<int>();
  p.max_episode_steps = d["max_episode_steps"].cast<int>();
  p.forward_reward_weight = f("forward_reward_weight");
  p.ctrl_cost_weight = f("ctrl_cost_weight");
  p.contact_cost_weight = f("contact_cost_weight");
  p.healthy_reward = f("healthy_reward");
  p.terminate_when_unhealthy = d["terminate_when_unhealthy"].cast<bool>();
  p.z_lo = f("z_lo"), p.z_hi = f("z_hi"), p.angle_lo = f("angle_lo"), p.angle_hi = f("angle_hi");
  p.state_lo = f("state_lo"), p.state_hi = f("state_hi");
  p.force_lo = f("force_lo"), p.force_hi = f("force_hi");
  p.reset_noise_scale = f("reset_noise_scale");
  p.skipped_qpos = d["skipped_qpos"].cast<int>();
  p.qvel_clip = f("qvel_clip");
  p.total_mass = f("total_mass");
  p.autoreset = d["autoreset"].cast<bool>();
  return p;
}

// A NumPy view of a buffer the VecEnv owns; `owner` keeps the VecEnv alive.
template <typename T>
py::array view(std::vector<T>& buf, std::vector<py::ssize_t> shape, py::handle owner) {
  return py::array_t<T>(shape, buf.data(), owner);
}

void require_size(const darray& a, py::ssize_t n, const char* name) {
  if (a.size() != n) {
    throw py::value_error(std::string(name) + " must have " + std::to_string(n) + " values");
  }
}

}  // namespace

PYBIND11_MODULE(_mujoco, m) {
  m.doc() = "hubkit's C++ MuJoCo vector env (thread pool, NEXT_STEP autoreset)";
  m.attr("header_version") = mjVERSION_HEADER;
  m.attr("built_with_mujoco") = HUBKIT_MUJOCO_PY_VERSION;
  m.def("library_version", [] { return mj_version(); },
        "mj_version() of the libmujoco this module loaded");
  py::list info_columns;
  for (const char* name : kInfoNames) info_columns.append(name);
  m.attr("info_columns") = info_columns;

  py::class_<VecEnv>(m, "VecEnv")
      .def(py::init([](const std::string& xml, const py::dict& params, int num_envs,
                       int num_threads, std::uint64_t seed) {
             return new VecEnv(xml, params_from_dict(params), num_envs, num_threads, seed);
           }),
           py::arg("xml"), py::arg("params"), py::arg("num_envs"), py::arg("num_threads"),
           py::arg("seed"))
      .def_property_readonly("num_envs", &VecEnv::num_envs)
      .def_property_readonly("num_threads", &VecEnv::num_threads)
      .def_property_readonly("obs_dim", &VecEnv::obs_dim)
      .def_property_readonly("nq", [](const VecEnv& e) { return e.model()->nq; })
      .def_property_readonly("nv", [](const VecEnv& e) { return e.model()->nv; })
      .def_property_readonly("nu", [](const VecEnv& e) { return e.model()->nu; })
      .def("seed", &VecEnv::seed, py::arg("seed"))
      .def("reset_all", &VecEnv::reset_all, py::call_guard<py::gil_scoped_release>())
      .def("step", [](VecEnv& e, const darray& actions) {
             require_size(actions, static_cast<py::ssize_t>(e.num_envs()) * e.model()->nu,
                          "actions");
             const double* a = actions.data();
             py::gil_scoped_release release;
             e.step(a);
           }, py::arg("actions"))
      .def("queue_reset_state", [](VecEnv& e, int i, const darray& qpos, const darray& qvel) {
             require_size(qpos, e.model()->nq, "qpos");
             require_size(qvel, e.model()->nv, "qvel");
             e.queue_reset_state(i, qpos.data(), qvel.data());
           }, py::arg("index"), py::arg("qpos"), py::arg("qvel"))
      .def("set_dynamics", [](VecEnv& e, int i, const darray& mass, const darray& friction,
                              const darray& damping) {
             const mjModel* mm = e.model();
             require_size(mass, mm->nbody, "body_mass");
             require_size(friction, 3 * mm->ngeom, "geom_friction");
             require_size(damping, mm->nv, "dof_damping");
             e.set_dynamics(i, mass.data(), friction.data(), damping.data());
           }, py::arg("index"), py::arg("body_mass"), py::arg("geom_friction"),
           py::arg("dof_damping"))
      .def("set_state", [](VecEnv& e, int i, const darray& qpos, const darray& qvel) {
             require_size(qpos, e.model()->nq, "qpos");
             require_size(qvel, e.model()->nv, "qvel");
             e.set_state(i, qpos.data(), qvel.data());
           }, py::arg("index"), py::arg("qpos"), py::arg("qvel"))
      .def("get_state", [](const VecEnv& e, int i) {
             py::array_t<double> qpos(e.model()->nq), qvel(e.model()->nv);
             e.get_state(i, qpos.mutable_data(), qvel.mutable_data());
             return py::make_tuple(qpos, qvel);
           }, py::arg("index"))
      .def_property_readonly("obs", [](py::object self) {
             auto& e = self.cast<VecEnv&>();
             return view(e.obs, {e.num_envs(), e.obs_dim()}, self);
           })
      .def_property_readonly("rewards", [](py::object self) {
             auto& e = self.cast<VecEnv&>();
             return view(e.rewards, {e.num_envs()}, self);
           })
      .def_property_readonly("terminated", [](py::object self) {
             auto& e = self.cast<VecEnv&>();
             return view(e.terminated, {e.num_envs()}, self);
           })
      .def_property_readonly("truncated", [](py::object self) {
             auto& e = self.cast<VecEnv&>();
             return view(e.truncated, {e.num_envs()}, self);
           })
      .def_property_readonly("unstable", [](py::object self) {
             auto& e = self.cast<VecEnv&>();
             return view(e.unstable, {e.num_envs()}, self);
           })
      .def_property_readonly("episode_steps", [](py::object self) {
             auto& e = self.cast<VecEnv&>();
             return view(e.episode_steps, {e.num_envs()}, self);
           })
      .def_property_readonly("info", [](py::object self) {
             auto& e = self.cast<VecEnv&>();
             return view(e.info, {e.num_envs(), static_cast<int>(kNumInfo)}, self);
           });
}
