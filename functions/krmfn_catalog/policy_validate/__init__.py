"""policy-validate: check resources against Kyverno validation policies, offline."""
