"""The OCTT 1.6 test cases, one module per feature profile and SUT role."""
