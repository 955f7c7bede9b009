"""The backup watch (issue 20): every system's newest restore point looked at each
morning, cheaply, with a full step-4 check in turn; history kept per system, the team told
once of each new problem and given one summary."""
