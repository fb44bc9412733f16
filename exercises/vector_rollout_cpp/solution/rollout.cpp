// Exercise vector_rollout_cpp: step N MuJoCo envs of a planar task (HalfCheetah,
// Hopper, Walker2d) on a thread pool, with Gymnasium v5's rules.
//
// Given: the thread pool, the env storage, the observation, the Python bindings.
// Yours: reset_env (a full reset to a given state) and step_env (one env step
// with frame skip, reward, termination, truncation and NEXT_STEP autoreset).
// The spec is python/hubkit/envs/reference.py; `hubkit check vector_rollout_cpp`
// compares your results with it to 1e-10 and times your rollout.
#include <mujoco/mujoco.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace py = pybind11;

// ------------------------------------------------------------------ given: thread pool
// parallel_for(n, fn) calls fn(i) for i in [0, n) on all threads and waits for them.
class ThreadPool {
 public:
  explicit ThreadPool(int num_threads) {
    for (int t = 1; t < num_threads; ++t) workers_.emplace_back([this] { loop(); });
  }
  ~ThreadPool() {
    { std::lock_guard<std::mutex> lock(mu_); stop_ = true; }
    start_.notify_all();
    for (auto& w : workers_) w.join();
  }
  void parallel_for(int n, const std::function<void(int)>& fn) {
    { std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn; n_ = n; next_ = 0; busy_ = static_cast<int>(workers_.size()); ++gen_; }
    start_.notify_all();
    drain();
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return busy_ == 0; });
  }

 private:
  void drain() { for (int i = next_++; i < n_; i = next_++) (*fn_)(i); }
  void loop() {
    std::uint64_t seen = 0;
    for (;;) {
      { std::unique_lock<std::mutex> lock(mu_);
        start_.wait(lock, [&] { return stop_ || gen_ != seen; });
        if (stop_) return;
        seen = gen_; }
      drain();
      std::lock_guard<std::mutex> lock(mu_);
      if (--busy_ == 0) done_.notify_one();
    }
  }
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_, done_;
  const std::function<void(int)>* fn_ = nullptr;
  int n_ = 0, busy_ = 0;
  std::atomic<int> next_{0};
  std::uint64_t gen_ = 0;
  bool stop_ = false;
};

// ------------------------------------------------------------------ given: task and envs
struct Params {  // reference.TaskSpec's fields for planar tasks
  int frame_skip, max_episode_steps;
  double forward_reward_weight, ctrl_cost_weight, healthy_reward;
  bool terminate_when_unhealthy;
  double z_lo, z_hi, angle_lo, angle_hi, state_lo, state_hi, qvel_clip;
};

struct Env {
  mjData* d = nullptr;        // this env's simulation state
  int steps = 0;              // steps in the current episode
  bool needs_reset = false;   // the last step ended the episode
  std::vector<double> reset_qpos, reset_qvel;  // state for the next reset
};

struct Out {  // where step_env writes env i's results
  double* obs;
  double* reward;
  std::uint8_t* terminated;
  std::uint8_t* truncated;
};

// obs = [qpos[1:], clip(qvel, -qvel_clip, qvel_clip)]
static void observe(const mjModel* m, const mjData* d, const Params& p, double* obs) {
  for (int j = 1; j < m->nq; ++j) *obs++ = d->qpos[j];
  for (int j = 0; j < m->nv; ++j) *obs++ = std::min(std::max(d->qvel[j], -p.qvel_clip), p.qvel_clip);
}

// Hopper/Walker2d: z and torso angle inside open intervals, and every entry of
// (qpos[2:], qvel) strictly inside (state_lo, state_hi). Always true for HalfCheetah.
static bool healthy(const mjModel* m, const mjData* d, const Params& p) {
  const double z = d->qpos[1], angle = d->qpos[2];
  if (!(p.z_lo < z && z < p.z_hi && p.angle_lo < angle && angle < p.angle_hi)) return false;
  for (int j = 2; j < m->nq; ++j) if (!(p.state_lo < d->qpos[j] && d->qpos[j] < p.state_hi)) return false;
  for (int j = 0; j < m->nv; ++j) if (!(p.state_lo < d->qvel[j] && d->qvel[j] < p.state_hi)) return false;
  return true;
}

// ------------------------------------------------------------------ yours
// Reset env `e` to (qpos, qvel): clear ALL of mjData first (time, warm starts,
// controls), set the state, recompute derived quantities, start a new episode.
static void reset_env(const mjModel* m, Env& e, const double* qpos, const double* qvel) {
  // BEGIN SOLUTION
  mj_resetData(m, e.d);
  std::copy(qpos, qpos + m->nq, e.d->qpos);
  std::copy(qvel, qvel + m->nv, e.d->qvel);
  mj_forward(m, e.d);
  e.steps = 0;
  e.needs_reset = false;
  // END SOLUTION
}

// One env step. If the previous step ended the episode, only reset (to
// e.reset_qpos / e.reset_qvel) and report obs, reward 0, both flags false.
// Otherwise: apply the action for frame_skip physics steps; reward =
// forward_reward_weight * dx/dt + healthy_reward * healthy - ctrl_cost_weight * |a|^2;
// terminated = terminate_when_unhealthy && !healthy;
// truncated = max_episode_steps > 0 && steps >= max_episode_steps.
// Return false while you have not written it (the checker then says so).
static bool step_env(const mjModel* m, const Params& p, Env& e, const double* action, Out out) {
  // BEGIN SOLUTION
  if (e.needs_reset) {
    reset_env(m, e, e.reset_qpos.data(), e.reset_qvel.data());
    observe(m, e.d, p, out.obs);
    *out.reward = 0.0;
    *out.terminated = *out.truncated = 0;
    return true;
  }
  const double x_before = e.d->qpos[0];
  std::copy(action, action + m->nu, e.d->ctrl);
  for (int k = 0; k < p.frame_skip; ++k) mj_step(m, e.d);
  const double dt = m->opt.timestep * p.frame_skip;
  const bool ok = healthy(m, e.d, p);
  double ctrl = 0.0;
  for (int j = 0; j < m->nu; ++j) ctrl += action[j] * action[j];
  const double gains = p.forward_reward_weight * ((e.d->qpos[0] - x_before) / dt) +
                       (ok ? p.healthy_reward : 0.0);
  *out.reward = gains - p.ctrl_cost_weight * ctrl;
  e.steps += 1;
  const bool term = p.terminate_when_unhealthy && !ok;
  const bool trunc = p.max_episode_steps > 0 && e.steps >= p.max_episode_steps;
  observe(m, e.d, p, out.obs);
  *out.terminated = term;
  *out.truncated = trunc;
  e.needs_reset = term || trunc;
  return true;
  // END SOLUTION
  return false;  // not written yet: the checker says so
}

// ------------------------------------------------------------------ given: the vector env
class Rollout {
 public:
  Rollout(const std::string& xml, const py::dict& d, int num_envs, int num_threads)
      : pool_(num_threads) {
    char err[1000] = "";
    m_ = mj_loadXML(xml.c_str(), nullptr, err, sizeof(err));
    if (!m_) throw std::runtime_error(std::string("could not load model: ") + err);
    auto f = [&](const char* k) { return d[k].cast<double>(); };
    p_ = Params{d["frame_skip"].cast<int>(), d["max_episode_steps"].cast<int>(),
                f("forward_reward_weight"), f("ctrl_cost_weight"), f("healthy_reward"),
                d["terminate_when_unhealthy"].cast<bool>(), f("z_lo"), f("z_hi"),
                f("angle_lo"), f("angle_hi"), f("state_lo"), f("state_hi"), f("qvel_clip")};
    obs_dim_ = m_->nq - 1 + m_->nv;
    envs_.resize(num_envs);
    for (Env& e : envs_) {
      e.d = mj_makeData(m_);
      e.reset_qpos.assign(m_->qpos0, m_->qpos0 + m_->nq);
      e.reset_qvel.assign(m_->nv, 0.0);
    }
    obs.assign(static_cast<size_t>(num_envs) * obs_dim_, 0.0);
    rewards.assign(num_envs, 0.0);
    terminated.assign(num_envs, 0);
    truncated.assign(num_envs, 0);
  }
  ~Rollout() {
    for (Env& e : envs_) mj_deleteData(e.d);
    mj_deleteModel(m_);
  }
  int num_envs() const { return static_cast<int>(envs_.size()); }
  int obs_dim() const { return obs_dim_; }
  int nu() const { return m_->nu; }

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
  bool step(const double* actions) {
    std::atomic<bool> all_done{true};
    pool_.parallel_for(num_envs(), [&](int i) {
      Out out{&obs[static_cast<size_t>(i) * obs_dim_], &rewards[i], &terminated[i], &truncated[i]};
      if (!step_env(m_, p_, envs_[i], actions + static_cast<size_t>(i) * m_->nu, out)) {
        all_done = false;
      }
    });
    return all_done;
  }

  std::vector<double> obs, rewards;
  std::vector<std::uint8_t> terminated, truncated;

 private:
  mjModel* m_ = nullptr;
  Params p_{};
  int obs_dim_ = 0;
  std::vector<Env> envs_;
  ThreadPool pool_;
};

using darray = py::array_t<double, py::array::c_style | py::array::forcecast>;

template <typename T>
static py::array view(std::vector<T>& v, std::vector<py::ssize_t> shape, py::handle owner) {
  return py::array_t<T>(shape, v.data(), owner);
}

PYBIND11_MODULE(rollout, mod) {
  py::class_<Rollout>(mod, "Rollout")
      .def(py::init<const std::string&, const py::dict&, int, int>())
      .def_property_readonly("nu", &Rollout::nu)
      .def("queue_reset_state", [](Rollout& r, int i, const darray& q, const darray& v) {
        if (i < 0 || i >= r.num_envs()) throw py::value_error("index out of range");
        r.queue_reset_state(i, q.data(), v.data());
      })
      .def("reset_all", &Rollout::reset_all)
      .def("step", [](Rollout& r, const darray& a) {
        if (a.size() != static_cast<py::ssize_t>(r.num_envs()) * r.nu())
          throw py::value_error("actions must have shape (num_envs, nu)");
        bool done;
        { py::gil_scoped_release release; done = r.step(a.data()); }
        if (!done) throw std::runtime_error("step_env is not implemented yet");
      })
      .def_property_readonly("obs", [](py::object s) {
        auto& r = s.cast<Rollout&>(); return view(r.obs, {r.num_envs(), r.obs_dim()}, s); })
      .def_property_readonly("rewards", [](py::object s) {
        auto& r = s.cast<Rollout&>(); return view(r.rewards, {r.num_envs()}, s); })
      .def_property_readonly("terminated", [](py::object s) {
        auto& r = s.cast<Rollout&>(); return view(r.terminated, {r.num_envs()}, s); })
      .def_property_readonly("truncated", [](py::object s) {
        auto& r = s.cast<Rollout&>(); return view(r.truncated, {r.num_envs()}, s); });
}
