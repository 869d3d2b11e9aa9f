"""Read models for the window, backend-neutral: the whole conversation read in place, activity aggregates."""
