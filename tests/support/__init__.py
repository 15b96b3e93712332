"""What the tests run against but are not tests: loopback servers, fault injectors, checks."""
