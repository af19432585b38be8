"""The domain: vocabulary, rules and errors of Switchboard. Imports nothing else of ours."""
