"""Terraform's built-in functions, evaluated statically.

Expected results come from the Terraform language documentation (most examples below are the
documented ones) and from the behaviour of the Go libraries Terraform uses (go-cty's function
library, Go's regexp, fmt and encoding/json). Each table row is ``(args, expected)``.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servegate.model.terraform.functions import FUNCTIONS, call
from servegate.model.terraform.values import EvalError, Unknown, is_known

U = Unknown("known after apply", "aws_instance.web.id")


def table(name: str, rows: list[tuple[list, object]]) -> list:
    return [pytest.param(name, args, expected, id=f"{name}-{i}") for i, (args, expected) in enumerate(rows)]


def same(a, b) -> bool:
    """Equal and of the same Terraform type all the way down (1 is not 1.0 is not True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


RESULTS = [
    # --- strings ------------------------------------------------------------------------------
    *table("upper", [(["hello"], "HELLO"), (["алло!"], "АЛЛО!"), (["straße"], "STRAßE")]),
    *table("lower", [(["HELLO"], "hello"), (["АЛЛО!"], "алло!")]),
    *table("title", [(["hello world"], "Hello World"), (["hello world_foo-bar"], "Hello World_foo-Bar"),
                     (["ÉCOLE élève"], "ÉCOLE Élève"), (["mIxEd"], "MIxEd")]),
    *table("trimspace", [(["  hello\n\n"], "hello"), (["\t x \u3000"], "x"), ([""], "")]),
    *table("trim", [
        (["?!hello?!", "!?"], "hello"),
        (["foobar", "far"], "oob"),
        (["  hello! world.!  ", "! "], "hello! world."),
    ]),
    *table("trimprefix", [(["helloworld", "hello"], "world"), (["helloworld", "cat"], "helloworld")]),
    *table("trimsuffix", [(["helloworld", "world"], "hello"), (["helloworld", "cat"], "helloworld")]),
    *table("chomp", [(["hello\n"], "hello"), (["hello\r\n"], "hello"), (["hello\n\n"], "hello"),
                     (["hello\r\n\r\n\n"], "hello"), (["hello\nworld"], "hello\nworld")]),
    *table("indent", [
        ([2, "[\n  foo,\n  bar,\n]\n"], "[\n    foo,\n    bar,\n  ]\n  "),
        ([4, "one line"], "one line"),
    ]),
    *table("split", [([",", "foo,bar,baz"], ["foo", "bar", "baz"]), ([",", "foo"], ["foo"]), ([",", ""], [""]),
                     ([",", "a,,b"], ["a", "", "b"]), (["", "abc"], ["a", "b", "c"])]),
    *table("join", [([", ", ["foo", "bar", "baz"]], "foo, bar, baz"), ([", ", ["foo"]], "foo"), ([",", []], ""),
                    (["-", ["a", 1, True]], "a-1-true"), (["-", ["a"], ["b", "c"]], "a-b-c")]),
    *table("strrev", [(["hello"], "olleh"), (["a ☃"], "☃ a"), (["héllo💃🏿"], "💃🏿olléh")]),
    *table("substr", [(["hello world", 1, 4], "ello"), (["🤔🤷", 0, 1], "🤔"), (["hello world", -5, -1], "world"),
                      (["hello world", 6, 10], "world"), (["hello", 10, 2], ""), (["hello", 5, 1], ""),
                      (["hello", 1, 0], ""), (["hello", -10, 2], "he"), (["hello", -2, 0], "lo")]),
    *table("startswith", [(["hello world", "hello"], True), (["hello world", "world"], False)]),
    *table("endswith", [(["hello world", "world"], True), (["hello world", "hello"], False)]),
    *table("strcontains", [(["hello world", "wor"], True), (["hello world", "wod"], False)]),
    *table("replace", [
        (["1 + 2 + 3", "+", "-"], "1 - 2 - 3"),
        (["hello world", "/w.*d/", "everybody"], "hello everybody"),
        (["hello world", "/w(or)ld/", "$1 ${1}x $$ $0 $9 $1x"], "hello or orx $ world  "),
        (["abc", "", "-"], "-a-b-c-"),
        (["xaxbx", "/x*/", "-"], "-a-b-"),  # Go skips an empty match right after a match
        (["Hello", "/(?i)h(?P<rest>.*)/", "J${rest}"], "Jello"),
        (["/", "/", "x"], "x"),  # a lone slash is not a regex
        (["a.b.c", ".", "-"], "a-b-c"),
    ]),
    *table("regex", [
        (["[a-z]+", "53453453.345345aaabbbccc23454"], "aaabbbccc"),
        (["(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)", "2019-02-01"], ["2019", "02", "01"]),
        (["^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?", "https://terraform.io/docs/"],
         {"scheme": "https", "authority": "terraform.io"}),
        (["(a)|(b)", "b"], [None, "b"]),  # a group that did not take part is null
        (["(?i)ABC", "xabc"], "abc"),
        (["(?m)^b$", "a\nb\nc"], "b"),
        (["a(?i)b|c", "C"], "C"),  # a flag set mid-group holds across the alternation
        (["(?s)a.b", "a\nb"], "a\nb"),
        (["a.b", "a\nb a-b"], "a-b"),
        (["(?U)a+", "aaa"], "a"),
        (["\\d+", "x٣42"], "42"),  # \d is ASCII-only in RE2
        (["\\bfoo\\b", "éfoo foo"], "foo"),
        (["[[:upper:]]+", "abcDEF"], "DEF"),
        (["\\Qa.b\\E", "axb a.b"], "a.b"),
        (["\\x41\\x{42}", "AB"], "AB"),
        (["x{2}y", "xxy"], "xxy"),
        (["a{,2}", "a{,2}"], "a{,2}"),  # not a repeat in RE2: literal braces
        (["^$", ""], ""),
    ]),
    *table("regexall", [
        (["[a-z]+", "1234abcd5678efgh9"], ["abcd", "efgh"]),
        (["[a-z]+", "123"], []),
        (["x*", "abxd"], ["", "", "x", ""]),  # Go's rule for empty matches
        (["(\\w)=(\\d)", "a=1 b=2"], [["a", "1"], ["b", "2"]]),
    ]),
    *table("format", [
        (["Hello, %s!", "Ander"], "Hello, Ander!"),
        (["There are %d lights", 4], "There are 4 lights"),
        (["%#v", "hello"], '"hello"'),
        (["%#v", True], "true"),
        (["%#v", 1], "1"),
        (["%#v", {"a": 1}], '{"a":1}'),
        (["%#v", None], "null"),
        (["%v", None], "null"),
        (["%.1f", 3.14159], "3.1"),
        (["%6.2f", 3.14159], "  3.14"),
        (["%-6.2f|", 3.14159], "3.14  |"),
        (["%05d", -42], "-0042"),
        (["%+d % d", 10, 10], "+10  10"),
        (["%x %X %o %b", 255, 255, 8, 5], "ff FF 10 101"),
        (["%#x %#o", 255, 8], "0xff 010"),
        (["%.3d", 7], "007"),
        (["%e %E", 1000, 1000], "1.000000e+03 1.000000E+03"),
        (["%g %G", 1000, "0.00000000000000000000001"], "1000 1E-23"),
        (["%.3g", 1234567], "1.23e+06"),
        (["%v", 12345678], "1.2345678e+07"),
        (["%v %v", 100000, 0.5], "100000 0.5"),
        (["%f", "100000000000000000000000000000000000001"], "100000000000000000000000000000000000001.000000"),
        (["%t %t", True, "false"], "true false"),
        (["%s %s", 1.5, False], "1.5 false"),
        (["%q", 'say "hi" <b>'], '"say \\"hi\\" \\u003cb\\u003e"'),
        (["%v", [1, "a"]], '[1,"a"]'),
        (["%10s|%-10s|", "hello", "hello"], "     hello|hello     |"),
        (["%4s", "💃🏿"], "   💃🏿"),
        (["%.2s %6.2q", "hello", "hello"], 'he   "he"'),
        (["%[2]s %[1]s %s", "a", "b"], "b a b"),
        (["100%% successful"], "100% successful"),
        ([""], ""),
    ]),
    *table("formatlist", [
        (["Hello, %s!", ["Valentina", "Ander", "Olivia", "Sam"]],
         ["Hello, Valentina!", "Hello, Ander!", "Hello, Olivia!", "Hello, Sam!"]),
        (["%s, %s!", "Salutations", ["Valentina", "Ander"]], ["Salutations, Valentina!", "Salutations, Ander!"]),
        (["%s=%s", ["a", "b"], ["1", "2"]], ["a=1", "b=2"]),
        (["%v", []], []), (["hello"], ["hello"]), (["%s", "single"], ["single"]),
    ]),
    # --- collections --------------------------------------------------------------------------
    *table("length", [
        ([[]], 0),
        ([["a", "b"]], 2),
        ([{"a": "b"}], 1),
        (["hello"], 5),
        (["👾🕹️"], 2),
        (["💃🏿"], 1),
        (["e\u0301"], 1),
        (["🇺🇸🇫🇷"], 2),
        (["👨\u200d👩\u200d👧"], 1),
        (["\r\n"], 1),
        ([""], 0),
    ]),
    *table("coalesce", [(["a", "b"], "a"), (["", "b"], "b"), ([1, 2], 1), ([None, "", "x"], "x"), ([1, "hello"], "1"),
                        ([None, 0], 0), ([[], ["a"]], []), ([None, True], True)]),
    *table("coalescelist", [
        ([["a", "b"], ["c", "d"]], ["a", "b"]),
        ([[], ["c", "d"]], ["c", "d"]),
        ([[], [], [1]], [1]),
    ]),
    *table("concat", [
        ([["a", ""], ["b", "c"]], ["a", "", "b", "c"]),
        ([[]], []),
        ([[1], ["a"], [[2]]], [1, "a", [2]]),
    ]),
    *table("merge", [
        ([{"a": "b", "c": "d"}, {"e": "f", "c": "z"}], {"a": "b", "c": "z", "e": "f"}),
        ([{"a": "b"}, {"a": [1, 2], "c": "z"}, {"d": 3}], {"a": [1, 2], "c": "z", "d": 3}),
        ([{"a": 1}, None], {"a": 1}), ([], {}), ([None, None], None),
    ]),
    *table("lookup", [
        ([{"a": "ay", "b": "bee"}, "a", "what?"], "ay"),
        ([{"a": "ay", "b": "bee"}, "c", "what?"], "what?"),
        ([{"a": "ay"}, "a"], "ay"),
        ([{"a": None}, "a", "d"], None),
    ]),
    *table("element", [([["a", "b", "c"], 1], "b"), ([["a", "b", "c"], 3], "a"), ([["a", "b", "c"], 2], "c"),
                       ([["a", "b", "c"], 7], "b"), ([["a", "b"], "1"], "b"), ([["a", "b"], 1.0], "b")]),
    *table("keys", [
        ([{"a": 1, "c": 2, "d": 3}], ["a", "c", "d"]),
        ([{"b": 1, "a": 2, "B": 3}], ["B", "a", "b"]),
        ([{}], []),
    ]),
    *table("values", [([{"a": 3, "c": 2, "d": 1}], [3, 2, 1]), ([{"b": "x", "a": "y"}], ["y", "x"])]),
    *table("flatten", [([[["a", "b"], [], ["c"]]], ["a", "b", "c"]), ([[[["a", "b"], []], ["c"]]], ["a", "b", "c"]),
                       ([[1, [2, [3, [4]]]]], [1, 2, 3, 4]), ([[{"a": [1]}, [None]]], [{"a": [1]}, None])]),
    *table("distinct", [([["a", "b", "a", "c", "d", "b"]], ["a", "b", "c", "d"]), ([[1, "1", 2]], ["1", "2"]),
                        ([[[1], [1], [2]]], [[1], [2]])]),
    *table("compact", [([["a", "", "b", None, "c"]], ["a", "b", "c"]), ([[1, ""]], ["1"]), ([[]], [])]),
    *table("contains", [([["a", "b", "c"], "a"], True), ([["a", "b", "c"], "d"], False), ([[1, 2], "1"], False),
                        ([[[1, 2]], [1, 2]], True), ([[True], 1], False), ([[], "a"], False)]),
    *table("index", [([["a", "b", "c"], "b"], 1), ([[1, 2, 1], 1], 0)]),
    *table("reverse", [([[1, 2, 3]], [3, 2, 1]), ([[]], [])]),
    *table("slice", [
        ([["a", "b", "c", "d"], 1, 3], ["b", "c"]),
        ([["a"], 0, 0], []),
        ([["a", "b"], 0, 2], ["a", "b"]),
    ]),
    *table("one", [([[]], None), ([["hello"]], "hello"), ([[["a"]]], ["a"])]),
    *table("sort", [([["e", "d", "a", "x"]], ["a", "d", "e", "x"]), ([["b", "a", 10, 9]], ["10", "9", "a", "b"]),
                    ([["é", "z", "Z"]], ["Z", "z", "é"])]),
    *table("chunklist", [([["a", "b", "c", "d", "e"], 2], [["a", "b"], ["c", "d"], ["e"]]),
                         ([["a", "b", "c", "d", "e"], 1], [["a"], ["b"], ["c"], ["d"], ["e"]]),
                         ([["a", "b"], 0], [["a", "b"]]), ([[], 3], [])]),
    *table("zipmap", [([["a", "b"], [1, 2]], {"a": 1, "b": 2}), ([[], []], {}), ([["a", "a"], [1, 2]], {"a": 2})]),
    *table("matchkeys", [
        ([["i-123", "i-abc", "i-def"], ["us-west", "us-east", "us-east"], ["us-east"]], ["i-abc", "i-def"]),
        ([[["a", 1], ["b", 2]], ["x", "y"], ["y"]], [["b", 2]]),
        ([["a", "b"], [1, 2], ["2"]], ["b"]),
        ([["a"], ["x"], []], []),
    ]),
    *table("transpose", [([{"a": ["1", "2"], "b": ["2", "3"]}], {"1": ["a"], "2": ["a", "b"], "3": ["b"]}), ([{}], {}),
                         ([{"b": [1], "a": [1]}], {"1": ["a", "b"]})]),
    *table("alltrue", [([["true", True]], True), ([[True, False]], False), ([[]], True), ([[None, True]], False)]),
    *table("anytrue", [
        ([["true"]], True),
        ([[True, False]], True),
        ([[False]], False),
        ([[]], False),
        ([[None]], False),
    ]),
    *table("range", [
        ([3], [0, 1, 2]),
        ([1, 4], [1, 2, 3]),
        ([1, 8, 2], [1, 3, 5, 7]),
        ([1, 4, 0.5], [1, 1.5, 2, 2.5, 3, 3.5]),
        ([4, 1], [4, 3, 2]),
        ([10, 5, -2], [10, 8, 6]),
        ([-3], [0, -1, -2]),
        ([0], []),
        ([2, 2], []),
        ([0, 0.3, 0.1], [0, 0.1, 0.2]),
        (["3"], [0, 1, 2]),
    ]),
    *table("setproduct", [
        ([["development", "staging", "production"], ["app1", "app2"]],
         [["development", "app1"], ["development", "app2"], ["staging", "app1"], ["staging", "app2"],
          ["production", "app1"], ["production", "app2"]]),
        ([["a"], []], []),
        ([["a", "b"], [1], [True]], [["a", 1, True], ["b", 1, True]]),
    ]),
    *table("setunion", [([["a", "b"], ["b", "c"], ["d"]], ["a", "b", "c", "d"]), ([[3, 1], [2, 1]], [1, 2, 3]),
                        ([["a"], [1]], ["1", "a"])]),
    *table("setintersection", [([["a", "b"], ["b", "c"], ["b", "d"]], ["b"]), ([["a"], ["b"]], [])]),
    *table("setsubtract", [([["a", "b", "c"], ["a", "c"]], ["b"]), ([["a", "b", "c"], ["a", "b", "c"]], [])]),
    # --- numbers ------------------------------------------------------------------------------
    *table("abs", [([23], 23), ([0], 0), ([-12.4], 12.4)]),
    *table("ceil", [([5], 5), ([5.1], 6), ([-5.1], -5)]),
    *table("floor", [([5], 5), ([4.9], 4), ([-4.1], -5)]),
    *table("log", [([50, 10], math.log(50) / math.log(10)), ([16, 2], 4), ([1, 10], 0), ([0, 10], -math.inf)]),
    *table("pow", [([3, 2], 9), ([4, 0], 1), ([4, 0.5], 2), ([2, -1], 0.5)]),
    *table("signum", [([-13], -1), ([0], 0), ([344], 1), ([-0.5], -1)]),
    *table("max", [([12, 54, 3], 54), ([1, "5", 3], 5), ([-1.5], -1.5)]),
    *table("min", [([12, 54, 3], 3), ([0.5, 1], 0.5)]),
    *table("sum", [([[10, 13, 6, 4.5]], 33.5), ([[0.1, 0.2]], 0.3), ([["1", 2]], 3), ([[1]], 1)]),
    *table("parseint", [(["100", 10], 100), (["FF", 16], 255), (["-10", 16], -16), (["11111111", 2], 255),
                        (["aA", 62], 656), (["zz", 36], 1295), (["+7", 8], 7)]),
    # --- encodings ----------------------------------------------------------------------------
    *table("jsonencode", [
        ([{"hello": "world"}], '{"hello":"world"}'),
        ([{"b": 1, "a": [True, None, 2.5]}], '{"a":[true,null,2.5],"b":1}'),
        (["<script>&</script>"], '"\\u003cscript\\u003e\\u0026\\u003c/script\\u003e"'),
        (["tab\tnl\ncr\rq\"bs\\\x01\x7f\u2028é"], '"tab\\tnl\\ncr\\rq\\"bs\\\\\\u0001\x7f\\u2028é"'),
        ([1e20], "100000000000000000000"), ([1e-7], "0.0000001"), ([0.1], "0.1"), ([-3], "-3"),
        ([[]], "[]"), ([{}], "{}"), ([None], "null"), ([10**30], "1000000000000000000000000000000"),
    ]),
    *table("jsondecode", [
        (['{"hello": "world"}'], {"hello": "world"}), (["true"], True), (["null"], None),
        (['[1, 2.5, 1.0, 1e3, "x"]'], [1, 2.5, 1, 1000, "x"]), (['  {"a": {"b": []}}  '], {"a": {"b": []}}),
        (['"\\u003c"'], "<"),
    ]),
    *table("yamlencode", [
        ([{"a": "b", "c": "d"}], '"a": "b"\n"c": "d"\n'),
        ([{"foo": [1, 2, 3], "bar": "baz"}], '"bar": "baz"\n"foo":\n- 1\n- 2\n- 3\n'),
        ([{"foo": [1, {"a": "b", "c": "d"}, 3], "bar": "baz"}],
         '"bar": "baz"\n"foo":\n- 1\n- "a": "b"\n  "c": "d"\n- 3\n'),
        ([True], "true\n...\n"),
        ([""], '""\n'),
        (["hello"], '"hello"\n'),
        ([0], "0\n...\n"),
        ([None], "null\n...\n"),
        ([{}], "{}\n"),
        ([[]], "[]\n"),
        ([["b"]], '- "b"\n'),
        ([{"script": "line1\nline2\n"}], '"script": |\n  line1\n  line2\n'),
        ([{"k": "x" * 90 + " yy zz"}], '"k": "' + "x" * 90 + '\n  yy zz"\n'),
        ([{"n": 1.5, "e": "é\t😀"}], '"e": "é\\t😀"\n"n": 1.5\n'),
    ]),
    *table("yamldecode", [
        (["hello: world"], {"hello": "world"}),
        (["true"], True),
        ([""], None),
        (["{a: &foo [1, 2, 3], b: *foo}"], {"a": [1, 2, 3], "b": [1, 2, 3]}),
        (["a: yes\nb: off\nc: y\nd: 'yes'\ne: ~\nf: Null"],
         {"a": True, "b": False, "c": True, "d": "yes", "e": None, "f": None}),
        (["[0x1F, 0o17, 017, 1_000, 1e3, .5, -2, +3, 1.2.3, 12abc]"],
         [31, 15, 17, 1000, 1000, 0.5, -2, 3, "1.2.3", "12abc"]),
        (["[2001-12-14, 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.10]"],
         ["2001-12-14T00:00:00Z", "2001-12-14T21:59:43-05:00", "2001-12-14T21:59:43Z"]),
        (["!!str 123"], "123"),
        (["!!int '5'"], "5"),
        (["!!null whatever"], None),
        (["!!float 1"], 1),
        (["base: &b {p: 1, q: 1}\nm:\n  <<: *b\n  p: 2"], {"base": {"p": 1, "q": 1}, "m": {"p": 2, "q": 1}}),
        (["1: one\ntrue: t\ny: why"], {"1": "one", "true": "why"}),
        (["s: |\n  a\n  b\n"], {"s": "a\nb\n"}),
    ]),
    *table("base64encode", [(["Hello World"], "SGVsbG8gV29ybGQ="), ([""], ""), (["☃"], "4piD")]),
    *table("base64decode", [(["SGVsbG8gV29ybGQ="], "Hello World"), (["4piD"], "☃"), (["SGVs\nbG8="], "Hello")]),
    *table("textencodebase64", [(["Hello World", "UTF-16LE"], "SABlAGwAbABvACAAVwBvAHIAbABkAA=="),
                                (["Hello", "UTF-16"], "/v8ASABlAGwAbABv")]),
    *table("textdecodebase64", [(["SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE"], "Hello World")]),
    *table("urlencode", [(["Hello World!"], "Hello+World%21"), (["☃"], "%E2%98%83"),
                         (["terraform urlencode"], "terraform+urlencode"), (["a-_.~/?="], "a-_.~%2F%3F%3D")]),
    *table("csvdecode", [(["a,b,c\n1,2,3\n4,5,6"], [{"a": "1", "b": "2", "c": "3"}, {"a": "4", "b": "5", "c": "6"}]),
                         (["a,b\n"], []), (['a,b\n"x, y","say ""hi"""\n'], [{"a": "x, y", "b": 'say "hi"'}])]),
    # --- hashes and UUIDs ---------------------------------------------------------------------
    *table("md5", [(["hello world"], "5eb63bbbe01eeed093cb22bb8f5acdc3")]),
    *table("sha1", [(["hello world"], "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")]),
    *table("sha256", [(["hello world"], "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")]),
    *table("sha512", [
        (["hello world"],
         "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f"
         "989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f"),
    ]),
    *table("base64sha256", [(["hello world"], "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")]),
    *table("base64sha512", [
        (["hello world"], "MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw=="),
    ]),
    *table("uuidv5", [
        (["dns", "www.terraform.io"], "a5008fae-b28c-5ba5-96cd-82b4c53552d6"),
        (["url", "https://www.terraform.io/"], "9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5"),
        (["oid", "1.3.6.1.4"], "af9d40a5-7a36-5c07-b23a-851cd99fbfa5"),
        (["x500", "CN=Example,C=GB"], "84e09961-4aa4-57f8-95b7-03edb1073253"),
        (["6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.terraform.io"], "a5008fae-b28c-5ba5-96cd-82b4c53552d6"),
    ]),
    # --- networks -----------------------------------------------------------------------------
    *table("cidrhost", [(["10.12.112.0/20", 16], "10.12.112.16"), (["10.12.112.0/20", 268], "10.12.113.12"),
                        (["fd00:fd12:3456:7890:00a2::/72", 34], "fd00:fd12:3456:7890::22"),
                        (["10.0.0.0/30", -1], "10.0.0.3"), (["10.0.0.0/30", -4], "10.0.0.0"),
                        (["10.1.2.3/24", 5], "10.1.2.5"), (["010.0.0.0/8", 1], "10.0.0.1")]),
    *table("cidrnetmask", [
        (["172.16.0.0/12"], "255.240.0.0"),
        (["10.0.0.0/32"], "255.255.255.255"),
        (["0.0.0.0/0"], "0.0.0.0"),
    ]),
    *table("cidrsubnet", [(["172.16.0.0/12", 4, 2], "172.18.0.0/16"), (["10.1.2.0/24", 4, 15], "10.1.2.240/28"),
                          (["fd00:fd12:3456:7890::/56", 16, 162], "fd00:fd12:3456:7800:a200::/72"),
                          (["10.0.0.0/8", 8, 2], "10.2.0.0/16"), (["10.0.0.0/8", 0, 0], "10.0.0.0/8")]),
    *table("cidrsubnets", [
        (["10.1.0.0/16", 4, 4, 8, 4], ["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"]),
        (["fd00:fd12:3456:7890::/56", 16, 16, 16, 32],
         ["fd00:fd12:3456:7800::/72", "fd00:fd12:3456:7800:100::/72", "fd00:fd12:3456:7800:200::/72",
          "fd00:fd12:3456:7800:300::/88"]),
        (["10.0.0.0/24", 1, 1], ["10.0.0.0/25", "10.0.0.128/25"]),
        (["10.0.0.0/8"], []),
    ]),
    # --- dates and times ----------------------------------------------------------------------
    *table("formatdate", [
        (["DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z"], "02 Jan 2018 23:12 UTC"),
        (["EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z"], "Tuesday, 02-Jan-18 23:12:01 UTC"),
        (["EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00"], "Tue, 02 Jan 2018 23:12:01 -0800"),
        (["MMM DD, YYYY", "2018-01-02T23:12:01Z"], "Jan 02, 2018"),
        (["HH:mmaa", "2018-01-02T23:12:01Z"], "11:12pm"),
        (["h 'o''clock' Z ZZZZZ", "2018-01-02T03:12:01+05:30"], "3 o'clock +05:30 +05:30"),
        (["M/D YYYY-MM-DD'T'hh:mm:ss", "2018-01-02T03:04:05Z"], "1/2 2018-01-02T03:04:05"),
    ]),
    *table("timeadd", [(["2017-11-22T00:00:00Z", "10m"], "2017-11-22T00:10:00Z"),
                       (["2017-11-22T00:00:00Z", "-1h30m"], "2017-11-21T22:30:00Z"),
                       (["2017-11-22T00:00:00+01:00", "1.5h"], "2017-11-22T01:30:00+01:00"),
                       (["2017-11-22T00:00:00.5Z", "500ms"], "2017-11-22T00:00:01Z")]),
    *table("timecmp", [(["2017-11-22T00:00:00Z", "2017-11-22T00:00:00Z"], 0),
                       (["2017-11-22T00:00:00Z", "2017-11-22T01:00:00Z"], -1),
                       (["2017-11-22T01:00:00Z", "2017-11-22T00:59:00-01:00"], -1),
                       (["2017-11-22T01:00:00+01:00", "2017-11-22T00:00:00Z"], 0)]),
    # --- paths --------------------------------------------------------------------------------
    *table("basename", [(["foo/bar/baz.txt"], "baz.txt"), (["/"], "/"), ([""], "."), (["a/b/"], "b")]),
    *table("dirname", [
        (["foo/bar/baz.txt"], "foo/bar"),
        (["baz.txt"], "."),
        (["/baz"], "/"),
        (["a//b/../c/d"], "a/c"),
    ]),
    # --- type conversion ----------------------------------------------------------------------
    *table("tostring", [
        (["hello"], "hello"),
        ([1], "1"),
        ([1.5], "1.5"),
        ([True], "true"),
        ([None], None),
        ([1e21], "1000000000000000000000"),
    ]),
    *table("tonumber", [([1], 1), (["1"], 1), (["-1.5"], -1.5), (["1e3"], 1000), ([".5"], 0.5), ([None], None)]),
    *table("tobool", [([True], True), (["true"], True), (["false"], False), ([None], None)]),
    *table("tolist", [
        ([["a", "b", "c"]], ["a", "b", "c"]),
        ([["a", "b", 3]], ["a", "b", "3"]),
        ([[1, True]], ["1", "true"]),
        ([[None, 1]], [None, 1]),
        ([None], None),
    ]),
    *table("toset", [
        ([["a", "b", "c"]], ["a", "b", "c"]),
        ([["a", "b", 3]], ["3", "a", "b"]),
        ([["c", "b", "b"]], ["b", "c"]),
        ([[10, 9, 10]], [9, 10]),
    ]),
    *table("tomap", [([{"a": 1, "b": 2}], {"a": 1, "b": 2}), ([{"a": "foo", "b": True}], {"a": "foo", "b": "true"})]),
    *table("sensitive", [(["secret"], "secret")]),
    *table("nonsensitive", [([{"a": 1}], {"a": 1})]),
]


@pytest.mark.parametrize(("name", "args", "expected"), RESULTS)
def test_result(name, args, expected):
    result = call(name, args)
    assert same(result, expected), f"{name}{tuple(args)!r} returned {result!r}, expected {expected!r}"


ERRORS = [
    *table("upper", [([], "Not enough function arguments"), (["a", "b"], "Too many function arguments"),
                     ([None], "must not be null"), ([["a"]], "string required")]),
    *table("substr", [(["abc", 1.5, 1], "whole number")]),
    *table("join", [([","], "at least one list is required"), ([",", ["a", None]], "element 1 is null")]),
    *table("regex", [
        (["[a-z]+", "53453453.34534523454"], "pattern did not match"),
        (["a**", "a"], "nested repetition"),
        (["(?=a)", "a"], "invalid or unsupported Perl syntax"),
        (["(a)(?P<n>b)", "ab"], "cannot mix"),
        (["(a", "a"], "missing closing )"),
        (["\\1", "a"], "invalid escape"),
        (["x{1001}", "x"], "repeat count"),
        (["^a$", "a\n"], "did not match"),
    ]),
    *table("replace", [(["x", "/(/", "y"], "invalid regexp pattern")]),
    *table("format", [
        (["%d", 1.5], "an integer is required"),
        (["%z", 1], "unsupported format verb 'z'"),
        (["%s %s", "a"], 'not enough arguments for "%s" at 3: need index 2 but have 1 total'),
        (["x", 1], "too many arguments; no verbs in format string"),
        (["%d %d", 1, 2, 3], "too many arguments; only 2 used by format string"),
        (["%s", None], "null value cannot be formatted"),
        (["%d", True], "number required"),
        (["%d", "x"], "a number is required"),
        (["%s", [1]], "string required"),
        (["%", 1], "invalid format string"),
        (["%[0]s", 1], "unrecognized format character '0' at offset 2"),
        (["%t", 1], "bool required"),
    ]),
    *table("formatlist", [
        (["%s %s", ["a", "b"], ["c"]], "argument 2 has length 1, which is inconsistent with argument 1 of length 2"),
        (["%d", ["x"]], "error on format iteration 0"),
    ]),
    *table("length", [([5], "argument must be a string, a collection type"), ([None], "must not be null")]),
    *table("coalesce", [
        ([None, ""], "no non-null, non-empty-string arguments"),
        (["a", ["b"]], "same type"),
        ([], "no non-null"),
    ]),
    *table("coalescelist", [([[], []], "no non-null arguments"), (["a"], "must be lists or tuples")]),
    *table("concat", [
        ([], "at least one argument"),
        ([{"a": 1}], "all arguments must be lists or tuples; got object"),
    ]),
    *table("merge", [(["x"], 'arguments must be maps or objects, got "string"'), ([[1]], "maps or objects")]),
    *table("lookup", [([{"a": 1}, "b"], 'lookup failed to find key "b"'), ([["a"], "a"], "requires a map"),
                      ([{"a": 1}, "a", 1, 2], "Too many function arguments")]),
    *table("element", [
        ([[], 0], "empty list"),
        ([["a"], -1], "negative index"),
        (["abc", 0], "cannot read elements from string"),
    ]),
    *table("keys", [([["a"]], "must have map or object type")]),
    *table("values", [(["a"], "requires a map")]),
    *table("flatten", [(["a"], "can only flatten lists")]),
    *table("contains", [(["abc", "a"], "must be list, tuple, or set")]),
    *table("index", [([[], "a"], "cannot search an empty list"), ([["a"], "b"], "item not found")]),
    *table("slice", [
        ([["a", "b"], 2, 1], "start index must not be greater than end index"),
        ([["a"], 0, 2], "end index must not be greater than the length"),
        ([["a"], -1, 1], "start index must not be less than zero"),
    ]),
    *table("one", [([["a", "b"]], "either zero or one elements"), ([{"a": 1}], "either zero or one elements")]),
    *table("sort", [([["a", None]], "given list element 1 is null")]),
    *table("chunklist", [([["a"], -1], "must be positive")]),
    *table("zipmap", [([["a"], [1, 2]], "number of keys (1) does not match number of values (2)"),
                      ([[None], [1]], "keys list has null value at index 0")]),
    *table("matchkeys", [([["a", "b"], ["x"], ["x"]], "length of keys and values should be equal")]),
    *table("transpose", [([{"a": "b"}], "map of lists of strings")]),
    *table("alltrue", [([["yes"]], "a bool is required")]),
    *table("range", [
        ([1, 4, -1], "end must be less than start when step is negative"),
        ([4, 1, 1], "end must be greater than start"),
        ([0, 1, 0], "step must not be zero"),
        ([2000], "more than 1024 values"),
        ([], "Not enough function arguments"),
    ]),
    *table("setproduct", [([["a"]], "at least two arguments"), ([["a"], "b"], "a set or a list is required")]),
    *table("max", [([], "must pass at least one number"), (["x"], "a number is required")]),
    *table("sum", [
        ([[]], "cannot sum an empty list"),
        ([["a"]], "list, set, or tuple of number values"),
        (["a"], "noniterable"),
    ]),
    *table("log", [([-1, 10], "NaN")]),
    *table("parseint", [
        (["12", 2], 'cannot parse "12" as a base 2 integer'),
        (["00FF", 10], "cannot parse"),
        (["1_0", 10], "cannot parse"),
        (["", 10], "cannot parse"),
        ([12, 10], "first argument must be a string"),
        (["1", 63], "between 2 and 62"),
    ]),
    *table("jsonencode", [([math.inf], "infinity")]),
    *table("jsondecode", [
        (["{"], "invalid JSON"),
        (['{"a":1,"a":2}'], 'duplicate "a" property'),
        (["NaN"], "invalid JSON"),
        (["1 2"], "invalid JSON"),
    ]),
    *table("yamldecode", [
        (["a: 1\n---\nb: 2"], "single document"),
        (["{a: !not-supported foo}"], 'unsupported tag "!not-supported"'),
        (["a: .nan"], "NaN is not supported"),
        (["{a: &foo [1, *foo, 3]}"], "YAML"),
        (["a: [1"], "invalid YAML"),
        (["? [1]\n: x"], "only strings are allowed as mapping keys"),
        (["!!bool maybe"], "cannot parse"),
    ]),
    *table("base64decode", [(["SGVsbG8"], 'failed to decode base64 data "SGVsbG8"'), (["/w=="], "not valid UTF-8")]),
    *table("textencodebase64", [(["x", "no-such-encoding"], "not a supported IANA encoding")]),
    *table("csvdecode", [([""], "missing header line"), (["a,a\n1,2"], 'duplicate column name "a"'),
                         (["a,b\n1"], "record on line 2: wrong number of fields")]),
    *table("uuidv5", [(["nope", "x"], "namespace")]),
    *table("cidrhost", [(["10.0.0.0/24", 256], "prefix of 24 does not accommodate a host numbered 256"),
                        (["10.0.0.0/24", -257], "does not accommodate a host numbered -257"),
                        (["10.0.0.0", 1], "invalid CIDR expression"), (["10.0.0.256/24", 1], "invalid CIDR expression"),
                        (["10.0.0.0/33", 1], "invalid CIDR expression")]),
    *table("cidrnetmask", [(["fd00::/64"], "IPv6 addresses cannot have a netmask")]),
    *table("cidrsubnet", [(["10.0.0.0/24", 9, 0], "insufficient address space to extend prefix of 24 by 9"),
                          (["10.0.0.0/24", 2, 4], "prefix extension of 2 does not accommodate a subnet numbered 4")]),
    *table("cidrsubnets", [
        (["10.0.0.0/24", 0], "at least one bit"),
        (["10.0.0.0/8", 33], "more than 32 bits"),
        (["10.0.0.0/24", 9], "would extend prefix to 33 bits, which is too long for an IPv4 address"),
        (["10.0.0.0/24", 1, 1, 1],
         "not enough remaining address space for a subnet with a prefix of 25 bits after 10.0.0.128/25"),
    ]),
    *table("formatdate", [
        (["YYY", "2018-01-02T23:12:01Z"], 'invalid date format verb "YYY"'),
        (["X", "2018-01-02T23:12:01Z"], "invalid date format verb"),
        (["'abc", "2018-01-02T23:12:01Z"], "unterminated literal"),
        (["YYYY", "2018-01-02"], "not a valid RFC3339 timestamp"),
    ]),
    *table("timeadd", [
        (["2017-11-22T00:00:00Z", "1"], "missing unit"),
        (["2017-11-22T00:00:00Z", "1y"], 'unknown unit "y"'),
        (["2017-11-22T00:00:00Z", ""], "invalid duration"),
    ]),
    *table("tostring", [([[1]], "cannot convert tuple to string"), ([{"a": 1}], "cannot convert object to string")]),
    *table("tonumber", [
        (["no"], 'cannot convert "no" to number'),
        ([True], "cannot convert bool to number"),
        (["1_000"], "cannot convert"),
    ]),
    *table("tobool", [(["no"], 'cannot convert "no" to bool'), ([1], "cannot convert number to bool")]),
    *table("tolist", [
        ([["a", [1]]], "cannot convert tuple to list of any single type"),
        (["a"], "cannot convert string to list"),
    ]),
    *table("tomap", [
        ([{"a": 1, "b": [1]}], "cannot convert object to map of any single type"),
        ([["a"]], "cannot convert tuple to map"),
    ]),
    *table("list", [([1], 'the "list" function was deprecated')]),
    *table("map", [(["a", 1], 'the "map" function was deprecated')]),
]


@pytest.mark.parametrize(("name", "args", "message"), ERRORS)
def test_error(name, args, message):
    with pytest.raises(EvalError) as caught:
        call(name, args)
    assert message in str(caught.value)


def test_argument_errors_say_so_in_terraform_words():
    with pytest.raises(EvalError) as caught:
        call("upper", [[1]])
    assert str(caught.value) == 'Invalid function argument: Invalid value for "str" parameter: string required.'


# --- the registry -----------------------------------------------------------------------------


def test_unknown_function_names_the_function():
    with pytest.raises(EvalError) as caught:
        call("nosuchfunction", [1])
    assert str(caught.value) == "call to unknown function 'nosuchfunction'"


@pytest.mark.parametrize("name", ["try", "can", "file", "templatefile", "fileexists", "filebase64"])
def test_lazy_and_file_functions_are_left_to_the_evaluator(name):
    assert name not in FUNCTIONS
    with pytest.raises(EvalError, match="call to unknown function"):
        call(name, ["x"])


def test_registry_covers_the_documented_functions():
    wanted = """jsonencode jsondecode yamlencode yamldecode merge concat format formatlist lookup coalesce
        coalescelist element length keys values tomap toset tolist tostring tonumber tobool replace lower upper
        title split join trimspace trim trimprefix trimsuffix substr startswith endswith strcontains contains
        flatten distinct compact zipmap range max min abs ceil floor log pow signum parseint sum sort reverse
        slice index one alltrue anytrue setunion setintersection setsubtract setproduct chunklist transpose
        matchkeys regex regexall base64encode base64decode md5 sha1 sha256 uuid timestamp cidrhost cidrnetmask
        cidrsubnet cidrsubnets urlencode indent chomp strrev sensitive nonsensitive bcrypt plantimestamp""".split()
    assert sorted(set(wanted) - set(FUNCTIONS)) == []
    assert all(callable(fn) for fn in FUNCTIONS.values())


# --- unknown values ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "args"), [
    ("upper", [U]), ("format", ["%s", U]), ("format", [U, "x"]), ("lookup", [U, "a"]), ("lookup", [{"a": 1}, U]),
    ("element", [["a"], U]), ("element", [U, 0]), ("length", [U]), ("keys", [U]), ("concat", [["a"], U]),
    ("merge", [{"a": 1}, U]), ("cidrsubnet", ["10.0.0.0/8", U, 1]), ("jsondecode", [U]), ("tolist", [U]),
    ("replace", ["abc", U, "x"]), ("sensitive", [U]), ("range", [U]), ("max", [1, U]),
])
def test_an_unknown_argument_makes_the_result_that_unknown(name, args):
    assert call(name, args) is U


@pytest.mark.parametrize(("name", "args"), [
    ("join", [",", ["a", U]]), ("sort", [["b", U]]), ("setunion", [["a"], [U]]), ("sum", [[1, U]]),
    ("format", ["%v", ["a", U]]), ("tostring", [[U]]), ("transpose", [{"a": [U]}]), ("matchkeys", [["a"], [U], ["x"]]),
])
def test_an_unknown_inside_an_argument_makes_the_result_unknown(name, args):
    assert call(name, args) is U


@pytest.mark.parametrize(("args", "expected"), [
    (["a", U], "a"), ([None, "", "b", U], "b"), ([U, "a"], U), ([None, U, "a"], U), (["", U], U),
])
def test_coalesce_returns_the_first_known_value_when_everything_before_it_is_known(args, expected):
    assert call("coalesce", args) is expected if isinstance(expected, Unknown) else call("coalesce", args) == expected


def test_coalescelist_stops_at_an_unknown_list():
    assert call("coalescelist", [[], ["a"], U]) == ["a"]
    assert call("coalescelist", [[], U, ["a"]]) is U


def test_length_and_keys_of_a_map_with_unknown_values_are_known():
    assert call("length", [{"a": U, "b": 1}]) == 2
    assert call("keys", [{"b": U, "a": U}]) == ["a", "b"]
    assert call("length", [[U, U, U]]) == 3
    assert call("values", [{"b": U, "a": 1}]) == [1, U]


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("concat", [["a"], [U]], ["a", U]),
    ("merge", [{"a": U}, {"b": 1}], {"a": U, "b": 1}),
    ("merge", [{"a": U}, {"a": 1}], {"a": 1}),
    ("tolist", [["a", U, 1]], ["a", U, "1"]),
    ("toset", [["b", U, "a", "b"]], ["a", "b", U]),
    ("tomap", [{"a": U, "b": 1}], {"a": U, "b": 1}),
    ("flatten", [[["a", U], [[U]]]], ["a", U, U]),
    ("compact", [["a", "", U, None]], ["a", U]),
    ("distinct", [["a", U, "a", U]], ["a", U, U]),
    ("element", [["a", U], 1], U),
    ("lookup", [{"a": U}, "a"], U),
    ("one", [[U]], U),
    ("slice", [["a", U, "c"], 1, 3], [U, "c"]),
    ("reverse", [["a", U]], [U, "a"]),
    ("chunklist", [["a", U, "c"], 2], [["a", U], ["c"]]),
    ("zipmap", [["a", "b"], [U, 1]], {"a": U, "b": 1}),
    ("setproduct", [["a"], [U]], [["a", U]]),
    ("formatlist", ["%s!", ["a", U]], ["a!", U]),
])
def test_collection_functions_carry_unknown_elements(name, args, expected):
    assert same(call(name, args), expected)


def test_contains_is_unknown_unless_the_answer_is_certain():
    assert call("contains", [["a", U], "a"]) is True
    assert isinstance(call("contains", [["a", U], "b"]), Unknown)
    assert call("contains", [[["x", U]], ["y", "z"]]) is False  # cannot be equal whatever U is
    assert isinstance(call("contains", [[["x", U]], ["x", "z"]]), Unknown)
    assert call("contains", [[[1, U]], [1, 2, 3]]) is False  # lengths differ
    assert call("contains", [["a"], U]) is U


def test_index_is_unknown_when_an_unknown_element_comes_first():
    assert call("index", [["a", U], "a"]) == 0
    assert isinstance(call("index", [[U, "a"], "a"]), Unknown)


def test_alltrue_and_anytrue_decide_what_they_can():
    assert call("alltrue", [[U, False]]) is False
    assert call("alltrue", [[U, True]]) is U
    assert call("anytrue", [[U, True]]) is True
    assert call("anytrue", [[U, False]]) is U


@pytest.mark.parametrize("name", ["jsonencode", "yamlencode"])
def test_encoding_a_value_with_unknowns_is_unknown_but_keeps_its_structure(name):
    policy = {"Statement": [{"Action": "s3:*", "Resource": U}]}
    result = call(name, [policy])
    assert isinstance(result, Unknown)
    assert result.partial == policy


def test_the_structure_of_an_encoded_unknown_survives_decoding_only():
    encoded = call("jsonencode", [{"Action": "s3:*", "Resource": U}])
    assert call("jsondecode", [encoded]) is encoded
    assert call("sensitive", [encoded]) is encoded
    stripped = call("base64encode", [encoded])
    assert isinstance(stripped, Unknown) and stripped.partial is None
    inside = call("join", [",", [encoded]])
    assert isinstance(inside, Unknown) and inside.partial is None


@pytest.mark.parametrize(("name", "args"), [("uuid", []), ("timestamp", []), ("plantimestamp", []),
                                            ("bcrypt", ["secret"]), ("bcrypt", ["secret", 10]), ("base64gzip", ["x"])])
def test_functions_that_cannot_be_known_statically_are_unknown(name, args):
    result = call(name, args)
    assert isinstance(result, Unknown)
    assert result.reason


def test_a_regex_feature_outside_the_translation_is_unknown_not_an_error():
    assert isinstance(call("regex", ["\\p{Greek}+", "αβγ"]), Unknown)
    assert isinstance(call("replace", ["abc", "/\\pL/", "x"]), Unknown)


def test_wrong_argument_counts_are_errors_even_with_unknowns():
    with pytest.raises(EvalError, match="Too many function arguments"):
        call("upper", [U, U])
    with pytest.raises(EvalError, match="Too many function arguments"):
        call("uuid", [U])


# --- robustness -------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8), st.just(U),
    st.sampled_from(["10.0.0.0/16", "fd00::/56", "2018-01-02T23:12:01Z", "%s %d %v", "/a(b)?/", "[a-", "1h",
                     '{"a":1}', "a: [1]", "true", "SGVsbG8=", "utf-8"]),
)
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                       max_leaves=6)


def _is_value(value) -> bool:
    if value is None or isinstance(value, (bool, int, float, str, Unknown)):
        return True
    if isinstance(value, list):
        return all(_is_value(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_value(v) for k, v in value.items())
    return False


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(FUNCTIONS)), st.lists(_values, max_size=3))
def test_any_arguments_give_a_value_or_an_eval_error(name, args):
    try:
        result = call(name, args)
    except EvalError:
        return
    assert _is_value(result)
    if is_known(args) and name not in ("uuid", "timestamp", "plantimestamp", "bcrypt", "base64gzip", "rsadecrypt",
                                       "issensitive", "regex", "regexall", "replace"):
        assert is_known(result)
