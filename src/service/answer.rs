//! Who decides a request's answer once its time is up: the request timeout, or a write already committing.
//!
//! The request timeout (`AUTH_REQUEST_TIMEOUT_SECONDS`) runs each request inside [`Answer::scope`]. A write about
//! to be committed on the caller's behalf first claims the answer ([`Answer::claim`]); from then on the timeout
//! waits for the real answer instead of answering 408. If the timeout fired first, the claim fails and the write
//! is dropped before it commits. So a caller answered 408 never has its write committed later, and a committed
//! write is always reported to its caller (late, if the database was slow).

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

const OPEN: u8 = 0;
const TIMED_OUT: u8 = 1;
const CLAIMED: u8 = 2;

tokio::task_local! {
    static CURRENT: Answer;
}

/// One request's answer: still open, already given as a timeout, or claimed by a committing write.
#[derive(Debug, Clone, Default)]
pub struct Answer(Arc<AtomicU8>);

impl Answer {
    /// Runs a request's handling with this answer visible to the writes it makes.
    pub async fn scope<F: Future>(self, handling: F) -> F::Output {
        CURRENT.scope(self, handling).await
    }

    /// The request's time is up: `true` if it may be answered 408 now, `false` if a write has claimed the answer
    /// (then the caller must wait for it).
    pub fn time_out(&self) -> bool {
        self.0
            .compare_exchange(OPEN, TIMED_OUT, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// A write is about to commit: `true` if its caller will hear the outcome, `false` if the caller was already
    /// answered 408 (then the write must not happen).
    pub fn claim(&self) -> bool {
        match self
            .0
            .compare_exchange(OPEN, CLAIMED, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => true,
            Err(state) => state == CLAIMED,
        }
    }

    /// The answer of the request being handled in this task, if it runs under a timeout.
    pub fn current() -> Option<Self> {
        CURRENT.try_with(Clone::clone).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timed_out_answer_cannot_be_claimed() {
        let answer = Answer::default();
        assert!(answer.time_out());
        assert!(!answer.claim());
    }

    #[test]
    fn a_claimed_answer_does_not_time_out_and_can_be_claimed_again() {
        let answer = Answer::default();
        assert!(answer.claim());
        assert!(!answer.time_out());
        assert!(answer.claim(), "a second write of the same request");
    }

    #[tokio::test]
    async fn the_answer_is_visible_inside_its_scope_only() {
        assert!(Answer::current().is_none());
        let answer = Answer::default();
        let seen = answer
            .clone()
            .scope(async { Answer::current().is_some_and(|a| a.claim()) })
            .await;
        assert!(seen);
        assert!(!answer.time_out());
    }
}
