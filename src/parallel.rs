//! Work spread over every core, its results in the order of the work: what makes `check --all`
//! and `render --all` print and fail the same way on any number of cores.

/// `work` on every item, on every core when there are several (a single item is done on the
/// calling thread, starting no pool of threads), the results in the items' order.
pub fn map_in_order<I: Send, R: Send>(items: Vec<I>, work: impl Fn(I) -> R + Sync) -> Vec<R> {
    use rayon::prelude::*;
    if items.len() == 1 {
        items.into_iter().map(work).collect()
    } else {
        items.into_par_iter().map(&work).collect()
    }
}
