//! imggen's one integration-test binary: the real executable, in temporary folders.

mod apply; // apply to a platform checkout: .env key by key, overrides, ownership, refusals
mod bake; // docker-bake.hcl: valid HCL naming every built image
mod build; // build and test: nothing to build, stale folders, bad --image, no engine
mod check; // `check`: in sync, changed, missing, stale and hand-edited files
mod corpus; // the bad-input corpus in tests/bad: status 2, the whole message, nothing written
mod edit; // set, unset and schema: in-place edits that keep comments; the profile schema
mod errors; // bad input: exit status 2, the whole message, nothing written
mod faults; // the output folder under kills, races and links: whole files, a truthful check
mod helper; // the fluent `Test` builder every test below uses
mod init; // init without a terminal: flags, missing answers, re-runs that keep comments
mod layout; // the source's layers: each module imports only from the layers below it
mod limits; // large inputs: deep extends chains, many packages, deep nesting
mod lint; // lint: clean output, findings on hand-written Dockerfiles, --explain
mod memo; // what `check` and `render` remember: found current from memory, any input changed seen
mod packs; // packs on disk: overriding, extending, refusing bad ones
mod profiles; // stacking, `extends`, `--set`, shadowing and `show`
mod readme; // the README, every command block run as written; man pages and list columns
mod registries; // imggen.lock, lock and mirror without a network: pins, bad lockfiles, failures
mod render; // `render`: outputs, headers, determinism, never touching a user's files
mod roles; // the role table at the edge: every role flag checked by clap, with the list
mod snapshots; // every built-in profile against `snapshots/`, through `imggen check`
mod vendor; // vendoring packs: edit, status against upstream, update keeping edits
