// Exercise vector_rollout_cpp: the vector env around the learner's functions.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <set>
#include <string>

#include "rollout.h"

namespace py = pybind11;

static Params params_from(const py::dict& d) {
  Params p;
  p.frame_skip = d["frame_skip"].cast<int>();
  p.max_episode_steps = d["max_episode_steps"].cast<int>();
  p.forward_reward_weight = d["forward_reward_weight"].cast<double>();
  p.ctrl_cost_weight = d["ctrl_cost_weight"].cast<double>();
  p.healthy_reward = d["healthy_reward"].cast<double>();
  p.terminate_when_unhealthy = d["terminate_when_unhealthy"].cast<bool>();
  p.z_lo = d["z_lo"].cast<double>();
  p.z_hi = d["z_hi"].cast<double>();
  p.angle_lo = d["angle_lo"].cast<double>();
  p.angle_hi = d["angle_hi"].cast<double>();
  p.state_lo = d["state_lo"].cast<double>();
  p.state_hi = d["state_hi"].cast<double>();
  p.qvel_clip = d["qvel_clip"].cast<double>();
  return p;
}

class Rollout {
 public:
  Rollout(const std::string& xml, const py::dict& params, int num_envs, int num_threads)
      : p_(params_from(params)), pool_(num_threads) {
    char err[1000] = "";
    m_ = mj_loadXML(xml.c_str(), nullptr, err, sizeof(err));
    if (!m_) throw std::runtime_error(std::string("could not load model: ") + err);
    obs_dim_ = m_->nq - 1 + m_->nv;
    envs_.resize(num_envs);
    init_envs(m_, envs_);
    for (Env& e : envs_) {
      e.reset_qpos.assign(m_->qpos0, m_->qpos0 + m_->nq);
      e.reset_qvel.assign(m_->nv, 0.0);
    }
    obs.assign(static_cast<size_t>(num_envs) * obs_dim_, 0.0);
    rewards.assign(num_envs, 0.0);
    terminated.assign(num_envs, 0);
    truncated.assign(num_envs, 0);
  }
  ~Rollout() {
    std::set<mjData*> unique;  // free each mjData once, however the envs share them
    for (Env& e : envs_) unique.insert(e.d);
    for (mjData* d : unique) mj_deleteData(d);
    mj_deleteModel(m_);
  }
  int num_envs() const { return static_cast<int>(envs_.size()); }
  int obs_dim() const { return obs_dim_; }
  int nu() const { return m_->nu; }
  int nq() const { return m_->nq; }
  int nv() const { return m_->nv; }

  void queue_reset_state(int i, const double* qpos, const double* qvel) {
    envs_[i].reset_qpos.assign(qpos, qpos + m_->nq);
    envs_[i].reset_qvel.assign(qvel, qvel + m_->nv);
  }
  void reset_all() {
    for (int i = 0; i < num_envs(); ++i) {
      Env& e = envs_[i];
      reset_env(m_, e, e.reset_qpos.data(), e.reset_qvel.data());
      observe(m_, e.d, p_, &obs[static_cast<size_t>(i) * obs_dim_]);
    }
  }
  bool step(const double* actions) {  // false if step_env is not written yet
    std::atomic<bool> written{true};
    pool_.parallel_for(num_envs(), [&](int i) {
      Out out{&obs[static_cast<size_t>(i) * obs_dim_], &rewards[i], &terminated[i],
              &truncated[i]};
      if (!step_env(m_, p_, envs_[i], actions + static_cast<size_t>(i) * m_->nu, out)) {
        written = false;
      }
    });
    return written;
  }

  std::vector<double> obs, rewards;
  std::vector<std::uint8_t> terminated, truncated;

 private:
  Params p_;
  mjModel* m_ = nullptr;
  int obs_dim_ = 0;
  std::vector<Env> envs_;
  ThreadPool pool_;
};

using darray = py::array_t<double, py::array::c_style | py::array::forcecast>;

template <typename T>
static py::array view(std::vector<T>& v, std::vector<py::ssize_t> shape, py::handle owner) {
  return py::array_t<T>(shape, v.data(), owner);
}

static void queue(Rollout& r, int i, const darray& qpos, const darray& qvel) {
  if (i < 0 || i >= r.num_envs()) throw py::value_error("index out of range");
  if (qpos.size() != r.nq() || qvel.size() != r.nv()) throw py::value_error("bad state size");
  r.queue_reset_state(i, qpos.data(), qvel.data());
}

static void step(Rollout& r, const darray& actions) {
  if (actions.size() != static_cast<py::ssize_t>(r.num_envs()) * r.nu()) {
    throw py::value_error("actions must have shape (num_envs, nu)");
  }
  bool written;
  {
    py::gil_scoped_release release;
    written = r.step(actions.data());
  }
  if (!written) throw std::runtime_error("step_env: not implemented yet");
}

PYBIND11_MODULE(HUBKIT_MODULE, m) {
  py::class_<Rollout>(m, "Rollout")
      .def(py::init<const std::string&, const py::dict&, int, int>(), py::arg("xml_path"),
           py::arg("params"), py::arg("num_envs"), py::arg("num_threads"))
      .def_property_readonly("nu", &Rollout::nu)
      .def("queue_reset_state", &queue)
      .def("reset_all", &Rollout::reset_all)
      .def("step", &step)
      .def_property_readonly("obs", [](py::object s) {
        auto& r = s.cast<Rollout&>();
        return view(r.obs, {r.num_envs(), r.obs_dim()}, s);
      })
      .def_property_readonly("rewards", [](py::object s) {
        auto& r = s.cast<Rollout&>();
        return view(r.rewards, {r.num_envs()}, s);
      })
      .def_property_readonly("terminated", [](py::object s) {
        auto& r = s.cast<Rollout&>();
        return view(r.terminated, {r.num_envs()}, s);
      })
      .def_property_readonly("truncated", [](py::object s) {
        auto& r = s.cast<Rollout&>();
        return view(r.truncated, {r.num_envs()}, s);
      });
}
