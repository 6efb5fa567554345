"""Request-free logic that the web rooms and the worker both call: intake,
facets, routing rules, accounts, sign-in policy, audit, the queue. Helpers
add and flush; the view or the job that called them commits once."""
