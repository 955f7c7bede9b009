"""Incident mode (issue 19): a data-centre incident declared with the systems it hit, one
request per system opened on its agency's behalf, decided together on shared cards and
followed on one live board in the team group; closing it issues a summary PDF."""
