//! The one error type every call returns.

/// Why a call failed.
///
/// The variants answer the question a caller has to decide on: try again later ([`Error::Transport`],
/// [`Error::Server`]), fix the request ([`Error::Refused`], [`Error::InvalidArgument`]), or report a bug or a
/// version mismatch ([`Error::Decode`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No answer came back: the connection was refused or dropped, DNS failed, or the timeout expired.
    /// Retried (for idempotent calls) before it is returned.
    #[error("cannot reach Warden: {source}")]
    Transport {
        /// The underlying HTTP client error; see [`reqwest::Error::is_timeout`] and
        /// [`reqwest::Error::is_connect`].
        #[source]
        source: reqwest::Error,
    },

    /// Warden answered 4xx: the request was refused and repeating it unchanged will be refused again.
    /// `message` and `error` are the server's envelope fields, e.g. `Not Found` and ``role `ghost` not found``.
    #[error("Warden refused the request ({status} {message}): {error}")]
    Refused {
        /// The HTTP status, 400 to 499.
        status: u16,
        /// The envelope's `message`: the status's short reason.
        message: String,
        /// The envelope's `error`: what exactly was wrong.
        error: String,
    },

    /// Warden answered 5xx (or a proxy in front of it did). A 503 is retried before it is returned; other
    /// 5xx are returned at once.
    #[error("Warden failed ({status} {message}): {error}")]
    Server {
        /// The HTTP status, 500 to 599.
        status: u16,
        /// The envelope's `message`, or the status's reason when the body is not Warden's envelope.
        message: String,
        /// The envelope's `error`, or the start of the body when it is not Warden's envelope.
        error: String,
    },

    /// An answer came back but was not the envelope and `data` shape this client expects.
    #[error("unexpected answer from Warden (status {status}): {detail}")]
    Decode {
        /// The HTTP status of the answer.
        status: u16,
        /// What did not match.
        detail: String,
    },

    /// The call was not sent because an argument cannot be expressed as a Warden request (for example a name
    /// `.` or `..`, which URL normalisation would turn into a different path), or the client was built with a
    /// bad base URL or key.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused { status, .. }
            | Self::Server { status, .. }
            | Self::Decode { status, .. } => Some(*status),
            Self::Transport { .. } | Self::InvalidArgument(_) => None,
        }
    }

    /// Whether trying the same call again later may succeed: transport failures, 503 answers and 429 (too many
    /// requests, which names its wait in `Retry-After`).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Server { status, .. } => *status == 503,
            Self::Refused { status, .. } => *status == 429,
            _ => false,
        }
    }
}
