//! Diesel table definitions, written by hand in the types both backends share
//! (Text, Integer, BigInt, Bool, Timestamp as UTC, Date).

diesel::table! {
    units (code) {
        code -> Text,
        name -> Text,
        email -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        password_hash -> Text,
        full_name -> Text,
        email -> Nullable<Text>,
        role -> Text,
        unit_code -> Nullable<Text>,
        active -> Bool,
        token_version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(users -> units (unit_code));
diesel::allow_tables_to_appear_in_same_query!(units, users);

diesel::table! {
    calendar_days (date) {
        date -> Date,
        kind -> Text,
        name -> Text,
        source -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    calendar_years (year) {
        year -> Integer,
        loaded_at -> Timestamp,
    }
}

diesel::table! {
    calendar_changes (id) {
        id -> Text,
        date -> Date,
        actor -> Text,
        at -> Timestamp,
        old_kind -> Nullable<Text>,
        old_name -> Nullable<Text>,
        new_kind -> Nullable<Text>,
        new_name -> Nullable<Text>,
    }
}

diesel::table! {
    calendar_revision (id) {
        id -> Integer,
        revision -> BigInt,
    }
}

diesel::table! {
    procedures (id) {
        id -> Text,
        code -> Text,
        version -> Integer,
        is_current -> Bool,
        name -> Text,
        field -> Text,
        unit_code -> Text,
        definition -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    dossiers (id) {
        id -> Text,
        code -> Text,
        procedure_id -> Text,
        procedure_code -> Text,
        field -> Text,
        unit_code -> Text,
        state -> Text,
        outcome -> Nullable<Text>,
        channel -> Text,
        rule_regime -> Text,
        applicant -> Text,
        applicant_name -> Text,
        applicant_id_number -> Nullable<Text>,
        search_text -> Text,
        components -> Text,
        note -> Text,
        lookup_key_hash -> Text,
        submitted_at -> Nullable<Timestamp>,
        received_at -> Nullable<Timestamp>,
        clock_started_at -> Nullable<Timestamp>,
        paused_seconds -> BigInt,
        paused_at -> Nullable<Timestamp>,
        due_at -> Nullable<Timestamp>,
        due_at_current -> Nullable<Timestamp>,
        current_step -> Nullable<Integer>,
        current_unit -> Nullable<Text>,
        step_started_at -> Nullable<Timestamp>,
        step_due_at -> Nullable<Timestamp>,
        supplement_count -> Integer,
        completion_asked -> Bool,
        state_before_withdrawal -> Nullable<Text>,
        supplement_wait_seconds -> BigInt,
        apology -> Nullable<Text>,
        late_apology -> Bool,
        resolved_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        timeliness -> Nullable<Text>,
        working_seconds -> Nullable<BigInt>,
        digitised -> Bool,
        reused -> Bool,
        result_reference -> Nullable<Text>,
        electronic_result -> Bool,
        paid_online -> Nullable<Bool>,
        delivered_at -> Nullable<Timestamp>,
        delivery_method -> Nullable<Text>,
        satisfaction -> Nullable<Integer>,
        received_day -> Nullable<Integer>,
        finished_day -> Nullable<Integer>,
        due_day -> Nullable<Integer>,
        version -> Integer,
        last_event_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        timeliness_current -> Nullable<Text>,
        due_current_day -> Nullable<Integer>,
        held_day -> Nullable<Integer>,
        held_current_day -> Nullable<Integer>,
    }
}

diesel::table! {
    dossier_units (dossier_id, unit_code) {
        dossier_id -> Text,
        unit_code -> Text,
    }
}

diesel::table! {
    dossier_events (dossier_id, seq) {
        dossier_id -> Text,
        seq -> Integer,
        action -> Text,
        from_state -> Nullable<Text>,
        to_state -> Text,
        actor -> Text,
        role -> Text,
        unit_code -> Nullable<Text>,
        occurred_at -> Timestamp,
        recorded_at -> Timestamp,
        note -> Text,
        details -> Text,
        step -> Nullable<Text>,
        step_unit -> Nullable<Text>,
        step_due_at -> Nullable<Timestamp>,
        closed_step -> Nullable<Text>,
        closed_step_due_at -> Nullable<Timestamp>,
        step_timeliness -> Nullable<Text>,
        due_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    dossier_sequences (agency_code, day) {
        agency_code -> Text,
        day -> Date,
        last -> Integer,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(dossiers -> procedures (procedure_id));
diesel::joinable!(dossier_events -> dossiers (dossier_id));
diesel::joinable!(dossier_units -> dossiers (dossier_id));
diesel::allow_tables_to_appear_in_same_query!(procedures, dossiers, dossier_events, dossier_units);

diesel::table! {
    outbox (id) {
        id -> Text,
        event -> Text,
        dossier_id -> Nullable<Text>,
        dossier_code -> Nullable<Text>,
        recipient -> Text,
        language -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        idempotency_key -> Text,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    files (sha256) {
        sha256 -> Text,
        size -> BigInt,
        media_type -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    component_files (dossier_id, item_code, sha256) {
        dossier_id -> Text,
        item_code -> Text,
        sha256 -> Text,
        document_number -> Nullable<Text>,
        issue_date -> Nullable<Date>,
        issuer -> Nullable<Text>,
        valid_until -> Nullable<Date>,
        digitised_by -> Text,
        digitised_at -> Timestamp,
        reused_from -> Nullable<Text>,
    }
}

diesel::joinable!(component_files -> files (sha256));
diesel::allow_tables_to_appear_in_same_query!(files, component_files, dossiers);

diesel::table! {
    dossier_notices (notice_key) {
        notice_key -> Text,
        dossier_id -> Text,
        kind -> Text,
        step_started_at -> Nullable<Timestamp>,
        raised_at -> Timestamp,
    }
}

diesel::joinable!(dossier_notices -> dossiers (dossier_id));
diesel::allow_tables_to_appear_in_same_query!(dossiers, dossier_notices);
