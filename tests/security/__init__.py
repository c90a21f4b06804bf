"""Tests that replay the attacks of an adversarial pass, each named after its attack."""
