"""The SOP as data and the pure rules that decide who may do what."""
