"""Test helpers: real databases, real apps, real HTTP; nothing under test is mocked."""
