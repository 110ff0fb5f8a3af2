// Package bench measures Custos the way its users load it: a seeded data set
// of realistic size, real HTTPS requests with keep-alive from many concurrent
// clients, every response checked, and latency percentiles per scenario
// (issue 3, PRF-1). `custos bench` wires it to a real server; this package
// knows nothing of how the server is started.
//
// # The floor
//
// Every scenario also runs, in alternating rounds, against the floor
// (floor.go): a plain net/http server on a copy of the same data that does
// the same requests with no security work, one prepared query each. The
// targets are ratios to it (issue 17, PRF-2), since machines differ by 2×
// and more while the ratio measured on the same cores in the same run says
// what the product's own work costs.
//
// # Seeding
//
// Seed fills an empty store in two ways. Users, their API tokens and, in
// the org shape, the teams and their members go through the service
// (crm.IdentityService), so passwords are hashed, tokens stored as hashes
// and what each manager sees computed exactly as in production, and every
// request of the run authenticates with a real bearer token through the
// real middleware. Client records (companies, contacts, deals, activities)
// and the shares of the org shape are written through the store's fast
// path, crm.Store.Write with thousands of inserts per transaction,
// bypassing validation, access checks, the step-up that sharing needs and
// (later) encryption and audit; each record gets its owner's team, as the
// service would give it. This is the one place in Custos allowed to do so,
// and only because seeding 460,000 rows one service call and one
// transaction at a time would take longer than the measurement. The
// scenarios that write (create, update, activity) go through the whole
// stack.
//
// Names are drawn from Russian and English first names and surnames, at
// random over the whole data set, so that name-prefix search meets the
// selectivity it meets in a real CRM. A contact's name, email address and
// owner follow from its sequence number and the run's seed, so the clients
// can recompute them instead of keeping a copy of the data set in memory
// (the client shares the process, and so the measured memory, with an
// in-process server).
//
// # Who reads what
//
// With the default private record visibility a sales user sees only the
// records they own and those shared with them. Each client of the rep
// scenarios works as one of the sales users (client i as rep i mod reps:
// every owner in the spread shape, the one owner in the one-owner shape,
// the sales users of the leaf teams in the org shape) and picks its ids at
// random among the contacts that user may see (for the writes, may
// change), so that every read crosses the access predicate the store
// builds into its WHERE clause, the most common and the most expensive
// case, and so that, over all clients, ids are spread across the whole
// data set rather than a hot few. The manager scenarios (org.go) act as
// the top-level manager, whose predicate names every team. An admin token
// would skip the predicate (Scope All) and flatter the numbers.
//
// # Measuring
//
// Each scenario runs its clients for a warm-up, whose requests are not
// counted, then for the measured duration. A request counts if it completes
// inside the measured window. Its response is checked (status and one field,
// by byte pattern rather than full decoding, to leave the CPU to the server);
// a failed check is an error, counted in its own column and never as a fast
// success. Latencies go into a log-linear histogram with under 1% error.
package bench
