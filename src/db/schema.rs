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
