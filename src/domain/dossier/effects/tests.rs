//! Each action's effect on a received dossier, without a database.

use super::*;
use crate::domain::dossier::fixtures::{at, cal, procedure, received};

fn reasons(text: &str) -> ActionRequest {
    ActionRequest {
        reasons: Some(Reasons::One(text.into())),
        ..Default::default()
    }
}

/// Performs `action` at `t` after the guard, as the use case does.
fn act(
    d: &mut DossierRecord,
    def: &ProcedureDefinition,
    action: Action,
    req: &ActionRequest,
    t: DateTime<Utc>,
) -> Checked<Effects> {
    guard(action, d, Role::Admin, None, t)?;
    let fx = perform(action, d, def, req, &cal(), "lanh.dao", t)?;
    d.last_event_at = t;
    Ok(fx)
}

fn none() -> ActionRequest {
    ActionRequest::default()
}

#[test]
fn the_guard_answers_state_then_unit_then_time() {
    let def = procedure("pause");
    let d = received(&def);
    let r = guard(Action::Approve, &d, Role::Leader, Some("U1"), at(2, 9, 0)).unwrap_err();
    assert_eq!(r.code, Code::DossierIllegalTransition);
    assert_eq!(
        r.extra,
        vec![
            ("state", json!("received")),
            ("allowed_actions", json!(["transfer"])),
        ]
    );
    let r = guard(Action::Transfer, &d, Role::Leader, Some("U2"), at(2, 9, 0)).unwrap_err();
    assert_eq!(r.code, Code::AuthForbidden);
    guard(Action::Transfer, &d, Role::Leader, Some("U1"), at(2, 9, 0)).unwrap();
    let r = guard(Action::Transfer, &d, Role::Clerk, None, at(1, 9, 0)).unwrap_err();
    assert!(r.fields.contains_key("occurred_at"));
}

#[test]
fn transfer_and_forward_hand_the_steps_on() {
    let def = procedure("pause");
    let mut d = received(&def);
    let fx = act(&mut d, &def, Action::Transfer, &none(), at(1, 14, 0)).unwrap();
    assert_eq!(
        (fx.from, fx.to, d.state),
        (State::Received, State::Processing, State::Processing)
    );
    let opened = fx.step.unwrap();
    assert_eq!(
        (opened.code.as_str(), opened.unit_code.as_str()),
        ("S1", "U1")
    );
    assert_eq!(opened.due_at, at(2, 14, 0));
    assert_eq!(fx.computed, vec![at(2, 14, 0)]);
    assert_eq!((d.current_step, d.holding_unit()), (Some(0), "U1"));

    // A day late into step 2.
    let fx = act(&mut d, &def, Action::Forward, &none(), at(3, 15, 0)).unwrap();
    let closed = fx.closed.unwrap();
    assert_eq!(
        (closed.code.as_str(), closed.timeliness),
        ("S1", Timeliness::Late)
    );
    assert_eq!(fx.step.unwrap().due_at, at(7, 15, 0));
    assert_eq!(d.holding_unit(), "U2");
    let r = act(&mut d, &def, Action::Forward, &none(), at(4, 9, 0)).unwrap_err();
    assert_eq!(r.code, Code::DossierLastStep);
    let to_unknown = ActionRequest {
        to_step: Some("S9".into()),
        ..Default::default()
    };
    let r = act(&mut d, &def, Action::Forward, &to_unknown, at(4, 9, 0)).unwrap_err();
    assert!(r.fields.contains_key("to_step"));
}

#[test]
fn a_supplement_pauses_the_clock_and_moves_every_due_time() {
    let def = procedure("pause");
    let mut d = received(&def);
    act(&mut d, &def, Action::Transfer, &none(), at(1, 14, 0)).unwrap();
    let ask = ActionRequest {
        items: Some(vec!["B".into()]),
        ..reasons("Thiếu bản vẽ")
    };
    let fx = act(&mut d, &def, Action::RequestSupplement, &ask, at(2, 9, 0)).unwrap();
    assert_eq!(fx.details["items"], json!(["B"]));
    assert_eq!(
        (d.state, d.supplement_count),
        (State::SupplementRequested, 1)
    );
    assert_eq!(d.clock.paused_at, Some(at(2, 9, 0)));

    // Back on Thursday 09:00: eight working hours waited.
    let hand_in = ActionRequest {
        components: Some(vec![crate::domain::dossier::input::ComponentInput {
            item_code: "B".into(),
            kind: crate::domain::dossier::input::ComponentKind::Copy,
            count: 1,
            pages: Some(3),
        }]),
        ..Default::default()
    };
    let fx = act(
        &mut d,
        &def,
        Action::SupplementReceived,
        &hand_in,
        at(3, 9, 0),
    )
    .unwrap();
    assert_eq!(fx.details["waited_working_minutes"], json!(480));
    assert_eq!(d.supplement_wait_seconds, 8 * 3600);
    assert_eq!(d.clock.paused_at, None);
    assert_eq!(d.clock.due_at, Some(at(9, 10, 0)));
    assert_eq!(d.clock.step_due_at, Some(at(3, 14, 0)));
    assert_eq!(d.components.len(), 2);
    assert_eq!(d.components[1].pages, Some(3));
    // One request per dossier under this procedure.
    let r = act(&mut d, &def, Action::RequestSupplement, &ask, at(3, 10, 0)).unwrap_err();
    assert_eq!(r.code, Code::DossierSupplementLimit);
}

#[test]
fn under_restart_the_supplement_starts_the_clock_again() {
    let def = procedure("restart");
    let mut d = received(&def);
    act(&mut d, &def, Action::Transfer, &none(), at(1, 14, 0)).unwrap();
    let ask = ActionRequest {
        items: Some(vec!["A".into()]),
        ..reasons("Đơn sai")
    };
    act(&mut d, &def, Action::RequestSupplement, &ask, at(2, 9, 0)).unwrap();
    let fx = act(
        &mut d,
        &def,
        Action::SupplementReceived,
        &none(),
        at(3, 9, 0),
    )
    .unwrap();
    assert_eq!(d.clock.due_at, Some(at(10, 9, 0)));
    assert_eq!(d.clock.paused_seconds, 0);
    assert_eq!(d.clock.step_due_at, Some(at(4, 9, 0)));
    assert_eq!(d.step_started_at, Some(at(3, 9, 0)));
    assert_eq!(fx.computed, vec![at(10, 9, 0), at(4, 9, 0)]);
    assert!(
        fx.step.is_none(),
        "the same step goes on: nobody new is notified"
    );
}

#[test]
fn a_declined_withdrawal_returns_to_where_it_was() {
    let def = procedure("pause");
    let mut d = received(&def);
    act(&mut d, &def, Action::Transfer, &none(), at(1, 14, 0)).unwrap();
    act(
        &mut d,
        &def,
        Action::RequestWithdrawal,
        &none(),
        at(2, 9, 0),
    )
    .unwrap();
    assert_eq!(d.state_before_withdrawal, Some(State::Processing));
    assert!(d.clock.is_paused());
    let r = act(
        &mut d,
        &def,
        Action::DeclineWithdrawal,
        &none(),
        at(2, 11, 0),
    )
    .unwrap_err();
    assert!(r.fields.contains_key("reasons"));
    let fx = act(
        &mut d,
        &def,
        Action::DeclineWithdrawal,
        &reasons("Không đủ căn cứ"),
        at(2, 11, 0),
    )
    .unwrap();
    assert_eq!(
        (fx.to, d.state, d.state_before_withdrawal),
        (State::Processing, State::Processing, None)
    );
    assert_eq!(
        d.clock.due_at,
        Some(at(8, 13, 30)),
        "two working hours later, lunch aside"
    );

    // Withdrawn while waiting for a supplement: declined, it waits on (the clock stays stopped).
    let ask = ActionRequest {
        items: Some(vec!["B".into()]),
        ..reasons("Thiếu bản vẽ")
    };
    act(&mut d, &def, Action::RequestSupplement, &ask, at(3, 9, 0)).unwrap();
    act(
        &mut d,
        &def,
        Action::RequestWithdrawal,
        &none(),
        at(3, 10, 0),
    )
    .unwrap();
    assert_eq!(
        d.clock.paused_at,
        Some(at(3, 9, 0)),
        "the first stop counts"
    );
    act(
        &mut d,
        &def,
        Action::DeclineWithdrawal,
        &reasons("x"),
        at(3, 11, 0),
    )
    .unwrap();
    assert_eq!(d.state, State::SupplementRequested);
    assert_eq!(d.clock.paused_at, Some(at(3, 9, 0)));
}

#[test]
fn stop_and_decisions_end_the_clock_and_judge_the_dossier() {
    let def = procedure("pause");
    let mut d = received(&def);
    act(&mut d, &def, Action::Transfer, &none(), at(1, 14, 0)).unwrap();
    let mut stopped = d.clone();
    act(
        &mut stopped,
        &def,
        Action::RequestWithdrawal,
        &none(),
        at(2, 9, 0),
    )
    .unwrap();
    act(
        &mut stopped,
        &def,
        Action::Stop,
        &reasons("Công dân rút"),
        at(2, 10, 0),
    )
    .unwrap();
    assert_eq!(stopped.state, State::Stopped);
    assert_eq!(stopped.clock.paused_at, None);
    assert_eq!(stopped.finished_at, Some(at(2, 10, 0)));
    assert_eq!(stopped.timeliness, Some(Timeliness::Early));
    assert_eq!(stopped.working_seconds, Some(8 * 3600));

    let r = act(&mut d.clone(), &def, Action::Reject, &none(), at(2, 10, 0)).unwrap_err();
    assert!(r.fields.contains_key("reasons"));
    let approve = ActionRequest {
        result_reference: Some("QĐ 1".into()),
        electronic_result: Some(true),
        ..Default::default()
    };
    let fx = act(&mut d, &def, Action::Approve, &approve, at(8, 10, 0)).unwrap();
    assert_eq!(
        (d.state, d.outcome),
        (State::Resolved, Some(Outcome::Approved))
    );
    assert_eq!(d.timeliness, Some(Timeliness::OnTime));
    assert_eq!(
        (d.resolved_at, d.finished_at),
        (Some(at(8, 10, 0)), Some(at(8, 10, 0)))
    );
    assert!(d.electronic_result);
    assert_eq!((d.current_step, d.clock.step_due_at), (None, None));
    assert_eq!(fx.closed.unwrap().timeliness, Timeliness::Late);
    assert_eq!(d.working_seconds, Some(5 * 8 * 3600));

    let bad = ActionRequest {
        method: Some("pigeon".into()),
        ..Default::default()
    };
    assert!(
        act(&mut d, &def, Action::Deliver, &bad, at(9, 9, 0))
            .unwrap_err()
            .fields
            .contains_key("method")
    );
    let deliver = ActionRequest {
        method: Some("counter".into()),
        satisfaction: Some(5),
        ..Default::default()
    };
    act(&mut d, &def, Action::Deliver, &deliver, at(9, 9, 0)).unwrap();
    assert_eq!(
        (d.state, d.delivered_at),
        (State::Delivered, Some(at(9, 9, 0)))
    );
}

#[test]
fn an_apology_moves_the_promise_once_and_is_late_within_a_day() {
    let def = procedure("pause");
    let mut d = received(&def);
    act(&mut d, &def, Action::Transfer, &none(), at(1, 14, 0)).unwrap();
    let apology = |new_due| ActionRequest {
        new_due_at: Some(new_due),
        ..reasons("Cần xác minh")
    };
    let r = act(
        &mut d,
        &def,
        Action::Apologize,
        &apology(at(8, 9, 0).fixed_offset()),
        at(2, 9, 0),
    )
    .unwrap_err();
    assert!(
        r.fields.contains_key("new_due_at"),
        "earlier than the appointment"
    );
    // Monday 7th 11:00: less than one working day before Tuesday 10:00.
    act(
        &mut d,
        &def,
        Action::Apologize,
        &apology(at(10, 9, 0).fixed_offset()),
        at(7, 11, 0),
    )
    .unwrap();
    let given = d.apology.clone().unwrap();
    assert!(given.late && d.late_apology);
    assert_eq!(
        (given.by.as_str(), given.new_due_at),
        ("lanh.dao", at(10, 9, 0))
    );
    assert_eq!(d.clock.due_at_current, Some(at(10, 9, 0)));
    assert_eq!(
        d.clock.due_at,
        Some(at(8, 10, 0)),
        "the legal due time stays"
    );
    let r = act(
        &mut d,
        &def,
        Action::Apologize,
        &apology(at(11, 9, 0).fixed_offset()),
        at(7, 12, 0),
    )
    .unwrap_err();
    assert_eq!(r.code, Code::DossierAlreadyApologized);
}

#[test]
fn allowed_actions_are_those_the_guard_lets_through_in_the_callers_unit() {
    let def = procedure("pause");
    let mut d = received(&def);
    act(&mut d, &def, Action::Transfer, &none(), at(1, 14, 0)).unwrap();
    act(&mut d, &def, Action::Forward, &none(), at(2, 9, 0)).unwrap();
    assert_eq!(d.holding_unit(), "U2");
    // The first unit's leader forwarded it on: nothing is left for them to do.
    assert!(allowed_for(&d, Role::Leader, Some("U1")).is_empty());
    let r = guard(Action::Approve, &d, Role::Leader, Some("U1"), at(2, 10, 0)).unwrap_err();
    assert_eq!(r.code, Code::AuthForbidden);
    assert_eq!(
        allowed_for(&d, Role::Leader, Some("U2")),
        [
            "forward",
            "request_supplement",
            "request_payment",
            "approve",
            "reject",
            "apologize"
        ]
    );
    // Every offer passes the guard and every refusal fails it, for every role and unit.
    for role in Role::ALL {
        for unit in [None, Some("U1"), Some("U2")] {
            let offered = allowed_for(&d, role, unit);
            for a in Action::POSTABLE {
                let passes = a.may(role) && guard(a, &d, role, unit, at(2, 10, 0)).is_ok();
                assert_eq!(
                    offered.contains(&a.as_str()),
                    passes,
                    "{role:?} {unit:?} {a:?}"
                );
            }
        }
    }
}
