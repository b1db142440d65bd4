//! Scripted protocol conformance runs against a real or mocked pen.
//! Filled in by the harness issue.
