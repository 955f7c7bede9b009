"""Reports of the office's service: the monthly report against the Mutu Baku."""
