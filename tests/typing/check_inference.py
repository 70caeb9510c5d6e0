from typing import assert_type
import genpipe as gp

def parse(s: str) -> int:
    return int(s)

def show(n: int) -> str:
    return str(n)

assert_type(gp.map(parse) | gp.map(show), gp.Stage[str, str])
assert_type(gp.source([1, 2]) | gp.map(str) | gp.to_list(), list[str])
assert_type(gp.source([1, 2]) | gp.map(lambda x: x + 1), gp.Source[int])
assert_type(gp.source([1, 2]) | gp.take(1), gp.Source[int])
assert_type(gp.source([1, 2]) | gp.take(1) | gp.to_list(), list[int])
assert_type([1, 2] | gp.map(str), gp.Source[str])
assert_type(gp.source(["a"]) | gp.map(parse) | gp.batch(2) | gp.first(), list[int])
s = gp.map(show) | gp.map(len) 
assert_type(s, gp.Stage[int, int])
bad = gp.map(show) | gp.map(bytes.decode)
x = gp.source([1]) | gp.map(lambda n: n.upper())
reveal_type(gp.source([1, 2]) | gp.enumerate() | gp.to_dict(lambda p: p[0], lambda p: p[1]))
