"""Stand-ins for objects living in the learner's process (its module, a buffer, a Value).

A `Remote` forwards attribute reads, calls, methods and operators to the
learner's process through its `hubkit.check.rpc.Session`; what comes back is
data, or another `Remote`. A spec reads as if it held the object itself:

    buf = learner.PrioritizedReplay(5, 0.6)   # a Remote
    buf.add(3)                                 # one request: call method "add"
    (learner.Value(2.0) * 3).data              # an operator, then an attribute
"""

from __future__ import annotations

from typing import Any


class Remote:
    """A stand-in for an object living in the learner's process (its module, a buffer)."""

    __slots__ = ("_session", "_key", "_type", "_callable", "_methods")

    def __init__(self, session: Any, key: int | None, type_name: str, is_callable: bool):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_callable", is_callable)
        object.__setattr__(self, "_methods", set())

    def __getattr__(self, name: str) -> Any:
        from hubkit.check.rpc import LearnerRaised

        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        if name in self._methods:
            return Method(self, name)
        try:
            value = self._session.request("getattr", self._key, name)
        except LearnerRaised as err:
            if err.info.get("type") == "AttributeError":
                raise AttributeError(err.info.get("text")) from None
            raise
        if isinstance(value, MethodMarker):
            self._methods.add(name)
            return Method(self, name)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        self._session.request("setattr", self._key, name, self._session.encode(value))

    def __call__(self, *args, **kwargs) -> Any:
        s = self._session
        return s.request("call", self._key, None, s.encode(list(args)), s.encode(kwargs))

    def _oper(self, name: str, *args) -> Any:
        return self._session.request("oper", name, self._session.encode(list(args)))

    def __repr__(self) -> str:
        return f"<{self._type} in the learner's process>"

    def __len__(self):
        return self._oper("len", self)

    def __float__(self):
        return self._oper("float", self)

    def __int__(self):
        return self._oper("int", self)

    def __index__(self):
        return self._oper("index", self)

    def __bool__(self):
        return self._oper("bool", self)

    def __iter__(self):
        return iter(self._oper("iter_list", self))

    def __getitem__(self, key):
        return self._oper("getitem", self, key)

    def __setitem__(self, key, value):
        return self._oper("setitem", self, key, value)

    def __neg__(self):
        return self._oper("neg", self)

    def __pos__(self):
        return self._oper("pos", self)

    def __abs__(self):
        return self._oper("abs", self)


def _binary(name: str):
    def forward(self, other):
        return self._oper(name, self, other)

    def reflected(self, other):
        return self._oper(name, other, self)

    return forward, reflected


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul"):
    _f, _r = _binary(_name)
    setattr(Remote, f"__{_name}__", _f)
    setattr(Remote, f"__r{_name}__", _r)
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(Remote, f"__{_name}__", _binary(_name)[0])
Remote.__hash__ = lambda self: hash((id(self._session), self._key))  # type: ignore[assignment]


class MethodMarker:
    pass


class Method:
    """A bound method of a Remote: calling it is one request (no attribute round trip)."""

    def __init__(self, owner: Remote, name: str) -> None:
        self.owner, self.name = owner, name

    def __call__(self, *args, **kwargs):
        s = self.owner._session
        return s.request("call", self.owner._key, self.name, s.encode(list(args)),
                         s.encode(kwargs))
