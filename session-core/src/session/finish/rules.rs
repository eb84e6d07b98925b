//! The end-of-request decision: write, touch or nothing; set the cookie or not.
//!
//! These are express-session's `shouldSave`, `shouldTouch` and `shouldSetCookie`
//! (index.js), expressed once here as pure functions so every adapter gets the same
//! answer. docs/wire-format.md ("The end-of-request rules") states them in prose.

/// What is known about a session that the handler used, at the end of the request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    /// express `cookieId !== req.sessionID`: no valid cookie, an unknown id, or a
    /// regenerated / cycled id.
    pub is_new: bool,
    /// express `isModified`: the id changed or the data differs from what was loaded.
    pub modified: bool,
    /// express `savedHash` is set: an explicit save happened, or the session was loaded
    /// with `resave` off.
    pub has_saved_baseline: bool,
    /// express `isSaved`: a saved baseline exists, the id is unchanged since, and the
    /// data equals it.
    pub saved: bool,
    /// `cookie.expires` is set (not a browser-session cookie).
    pub expires_set: bool,
    /// The cookie verified under a retired secret: re-issue it with the current one.
    pub resign: bool,
}

/// The options that take part in the decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SaveOptions {
    /// `saveUninitialized`.
    pub save_uninitialized: bool,
    /// `rolling`.
    pub rolling: bool,
    /// `resave`.
    pub resave: bool,
}

/// What to do with the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Persist {
    /// Nothing.
    Nothing,
    /// Write the session.
    Save,
    /// Extend its life without rewriting it.
    Touch,
}

/// The decision for a session the handler used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decision {
    /// Store action.
    pub persist: Persist,
    /// Whether to send `Set-Cookie`.
    pub set_cookie: bool,
}

/// express-session's end-of-request rules. An existing session, loaded and left
/// unchanged, resave off: touched, no cookie (`an_unchanged_session_is_touched`).
pub(crate) fn decide(f: Facts, p: SaveOptions) -> Decision {
    let should_save = if !p.save_uninitialized && !f.has_saved_baseline && f.is_new {
        f.modified
    } else {
        !f.saved
    };
    let persist = if should_save {
        Persist::Save
    } else if !f.is_new {
        Persist::Touch
    } else {
        Persist::Nothing
    };
    let set_cookie = if f.is_new {
        p.save_uninitialized || f.modified
    } else {
        p.rolling || (f.expires_set && f.modified) || f.resign
    };
    Decision {
        persist,
        set_cookie,
    }
}

/// What to do with a session the handler never touched (no store call was made).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Untouched {
    /// Nothing at all: no store call, no cookie.
    Nothing,
    /// Extend the stored session's life; no cookie.
    Touch,
    /// The rules need the session (a write or a cookie may follow): load it, or create
    /// it for a cookieless visitor, then [`decide`].
    Materialize,
}

/// The decision for an untouched session: what express-session would end up doing with
/// an unchanged session, reached with as few store calls as possible: a visitor
/// without a cookie who stored nothing costs nothing, a returning visitor one touch
/// and no load (`untouched_sessions_cost_the_minimum`).
pub(crate) fn decide_untouched(has_cookie: bool, resign: bool, p: SaveOptions) -> Untouched {
    match (has_cookie, p) {
        (
            false,
            SaveOptions {
                save_uninitialized: true,
                ..
            },
        ) => Untouched::Materialize,
        (false, _) => Untouched::Nothing,
        // saveUninitialized: an unknown id would become a new, saved session.
        (
            true,
            SaveOptions {
                resave,
                rolling,
                save_uninitialized,
            },
        ) if resave || rolling || save_uninitialized || resign => Untouched::Materialize,
        (true, _) => Untouched::Touch,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unchanged_session_is_touched() {
        let facts = Facts {
            has_saved_baseline: true,
            saved: true,
            ..Facts::default()
        };
        let d = decide(facts, SaveOptions::default());
        assert_eq!(d.persist, Persist::Touch);
        assert!(!d.set_cookie);
    }

    #[test]
    fn untouched_sessions_cost_the_minimum() {
        let none = SaveOptions::default();
        assert_eq!(decide_untouched(false, false, none), Untouched::Nothing);
        assert_eq!(decide_untouched(true, false, none), Untouched::Touch);
    }

    use super::*;

    const BASE: SaveOptions = SaveOptions {
        save_uninitialized: false,
        rolling: false,
        resave: false,
    };

    fn existing(modified: bool, resave: bool) -> Facts {
        // A loaded session: with resave off, the load sets the saved baseline.
        Facts {
            is_new: false,
            modified,
            has_saved_baseline: !resave,
            saved: !resave && !modified,
            expires_set: true,
            resign: false,
        }
    }

    fn new_session(modified: bool) -> Facts {
        Facts {
            is_new: true,
            modified,
            ..Facts::default()
        }
    }

    #[test]
    fn truth_table_existing() {
        // resave=true: saved even if unchanged, no touch; cookie only if rolling or modified.
        let d = decide(
            existing(false, true),
            SaveOptions {
                resave: true,
                ..BASE
            },
        );
        assert_eq!(
            d,
            Decision {
                persist: Persist::Save,
                set_cookie: false
            }
        );
        // resave=false, unchanged: touch, no cookie.
        let d = decide(existing(false, false), BASE);
        assert_eq!(
            d,
            Decision {
                persist: Persist::Touch,
                set_cookie: false
            }
        );
        // resave=false, unchanged, rolling: touch and cookie.
        let d = decide(
            existing(false, false),
            SaveOptions {
                rolling: true,
                ..BASE
            },
        );
        assert_eq!(
            d,
            Decision {
                persist: Persist::Touch,
                set_cookie: true
            }
        );
        // resave=false, changed: save, and the cookie because expires is set.
        let d = decide(existing(true, false), BASE);
        assert_eq!(
            d,
            Decision {
                persist: Persist::Save,
                set_cookie: true
            }
        );
        // Browser-session cookie changed without rolling: no Set-Cookie (express#452).
        let f = Facts {
            expires_set: false,
            ..existing(true, false)
        };
        assert_eq!(
            decide(f, BASE),
            Decision {
                persist: Persist::Save,
                set_cookie: false
            }
        );
        // Explicitly saved and unchanged since: no end-of-request save.
        let f = Facts {
            has_saved_baseline: true,
            saved: true,
            ..existing(true, true)
        };
        assert_eq!(
            decide(
                f,
                SaveOptions {
                    resave: true,
                    ..BASE
                }
            )
            .persist,
            Persist::Touch
        );
        // Re-issue a cookie signed by a retired secret.
        let f = Facts {
            resign: true,
            ..existing(false, false)
        };
        assert!(decide(f, BASE).set_cookie);
    }

    #[test]
    fn truth_table_new() {
        let uninit = SaveOptions {
            save_uninitialized: true,
            ..BASE
        };
        assert_eq!(
            decide(new_session(false), uninit),
            Decision {
                persist: Persist::Save,
                set_cookie: true
            }
        );
        assert_eq!(
            decide(new_session(false), BASE),
            Decision {
                persist: Persist::Nothing,
                set_cookie: false
            }
        );
        // rolling does not force a cookie on an uninitialized session.
        let rolling = SaveOptions {
            rolling: true,
            ..BASE
        };
        assert_eq!(
            decide(new_session(false), rolling),
            Decision {
                persist: Persist::Nothing,
                set_cookie: false
            }
        );
        assert_eq!(
            decide(new_session(true), BASE),
            Decision {
                persist: Persist::Save,
                set_cookie: true
            }
        );
        assert_eq!(
            decide(new_session(true), rolling),
            Decision {
                persist: Persist::Save,
                set_cookie: true
            }
        );
        // Explicitly saved new session: no second write, but the cookie goes out.
        let f = Facts {
            has_saved_baseline: true,
            saved: true,
            ..new_session(true)
        };
        assert_eq!(
            decide(f, BASE),
            Decision {
                persist: Persist::Nothing,
                set_cookie: true
            }
        );
        // A new session is never touched.
        let f = Facts {
            has_saved_baseline: true,
            saved: true,
            ..new_session(false)
        };
        assert_eq!(decide(f, uninit).persist, Persist::Nothing);
    }

    #[test]
    fn regenerated_is_saved_and_cookied() {
        // regenerate: new id, so is_new and modified.
        let f = Facts {
            is_new: true,
            modified: true,
            ..Facts::default()
        };
        assert_eq!(
            decide(f, BASE),
            Decision {
                persist: Persist::Save,
                set_cookie: true
            }
        );
    }

    #[test]
    fn untouched() {
        let p = |save_uninitialized, resave, rolling| SaveOptions {
            save_uninitialized,
            resave,
            rolling,
        };
        assert_eq!(
            decide_untouched(false, false, p(false, true, true)),
            Untouched::Nothing
        );
        assert_eq!(
            decide_untouched(false, false, p(true, false, false)),
            Untouched::Materialize
        );
        assert_eq!(
            decide_untouched(true, false, p(false, false, false)),
            Untouched::Touch
        );
        assert_eq!(
            decide_untouched(true, false, p(false, true, false)),
            Untouched::Materialize
        );
        assert_eq!(
            decide_untouched(true, false, p(false, false, true)),
            Untouched::Materialize
        );
        assert_eq!(
            decide_untouched(true, true, p(false, false, false)),
            Untouched::Materialize
        );
        assert_eq!(
            decide_untouched(true, false, p(true, false, false)),
            Untouched::Materialize
        );
    }
}
