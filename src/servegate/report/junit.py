"""JUnit XML for CI dashboards: one test suite per file, one failing test case per finding, and an error
case for each input that could not be read."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from servegate.scan import ScanResult


def render(result: ScanResult, show_suppressed: bool = False) -> str:
    findings = [f for f in result.findings if not f.suppressed]
    suites = ET.Element("testsuites", name="servegate", tests=str(len(findings) + len(result.errors)),
                        failures=str(len(findings)), errors=str(len(result.errors)))
    for file, group in groupby(findings, key=lambda f: f.location.file):
        items = list(group)
        suite = ET.SubElement(suites, "testsuite", name=file, tests=str(len(items)), failures=str(len(items)),
                              errors="0")
        for finding in items:
            case = ET.SubElement(suite, "testcase", classname=finding.rule_id,
                                 name=f"{finding.resource} {finding.location.path}".strip(),
                                 file=file, line=str(finding.location.line))
            failure = ET.SubElement(case, "failure", type=finding.severity.label,
                                    message=f"{finding.rule_id}: {finding.title}")
            failure.text = f"{file}:{finding.location.line}: {finding.message}"
    if result.errors:
        suite = ET.SubElement(suites, "testsuite", name="inputs", tests=str(len(result.errors)), failures="0",
                              errors=str(len(result.errors)))
        for error in result.errors:
            case = ET.SubElement(suite, "testcase", classname="input", name=error.file, file=error.file,
                                 line=str(error.line))
            ET.SubElement(case, "error", message=error.message).text = f"{error.file}:{error.line}: {error.message}"
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
