//! The SMTP server side: session state machine, connection IO, listeners.
