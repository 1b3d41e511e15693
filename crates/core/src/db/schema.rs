// @generated automatically by Diesel CLI.

diesel::table! {
    access_key_sessions (id) {
        id -> Text,
        challenge -> Text,
        status -> Text,
        user_did -> Nullable<Text>,
        access_key_id -> Nullable<Text>,
        sealed_key -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    access_keys (id) {
        id -> Text,
        prefix -> Text,
        key_hash -> Text,
        user_did -> Text,
        role -> Text,
        name -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        revoked -> Bool,
        app_did -> Nullable<Text>,
    }
}

diesel::table! {
    ai_credentials (id) {
        id -> Text,
        provider_id -> Text,
        name -> Text,
        credential_value -> Text,
        credential_type -> Text,
        active -> Bool,
        last_used_at -> Nullable<Timestamp>,
        usage_count -> BigInt,
        error -> Nullable<Text>,
        weight -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ai_model_rate_histories (id) {
        id -> Text,
        rate_id -> Text,
        provider_id -> Text,
        model -> Text,
        #[sql_name = "type"]
        type_ -> Text,
        change -> Text,
        changed_by -> Text,
        previous -> Nullable<Text>,
        current -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ai_model_rates (id) {
        id -> Text,
        provider_id -> Text,
        model -> Text,
        model_display -> Nullable<Text>,
        description -> Nullable<Text>,
        #[sql_name = "type"]
        type_ -> Text,
        input_rate -> Text,
        output_rate -> Text,
        unit_costs -> Nullable<Text>,
        caching -> Nullable<Text>,
        model_metadata -> Nullable<Text>,
        deprecated -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ai_model_statuses (id) {
        id -> Text,
        provider_id -> Text,
        model -> Text,
        #[sql_name = "type"]
        type_ -> Text,
        available -> Bool,
        error -> Nullable<Text>,
        response_time -> Nullable<BigInt>,
        checked_at -> Timestamp,
    }
}

diesel::table! {
    ai_providers (id) {
        id -> Text,
        name -> Text,
        display_name -> Text,
        base_url -> Nullable<Text>,
        region -> Nullable<Text>,
        enabled -> Bool,
        config -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    apps (id) {
        id -> Text,
        public_key -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    credit_accounts (user_did) {
        user_did -> Text,
        debt -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    credit_grants (id) {
        id -> Text,
        user_did -> Text,
        amount -> Text,
        category -> Text,
        expires_at -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        remaining -> Text,
    }
}

diesel::table! {
    credit_reservations (id) {
        id -> Text,
        user_did -> Text,
        amount -> Text,
        instance_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    credit_transactions (id) {
        id -> Text,
        user_did -> Text,
        kind -> Text,
        amount -> Text,
        grant_id -> Nullable<Text>,
        model_call_id -> Nullable<Text>,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        call_count -> BigInt,
    }
}

diesel::table! {
    meter_event_outbox (id) {
        id -> Text,
        user_did -> Text,
        app_did -> Nullable<Text>,
        amount -> Text,
        model_call_id -> Nullable<Text>,
        status -> Text,
        attempts -> BigInt,
        identifier -> Nullable<Text>,
        last_error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        instance_id -> Nullable<Text>,
    }
}

diesel::table! {
    model_aliases (id) {
        id -> Text,
        pattern -> Text,
        target -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    model_call_stats (id) {
        id -> Text,
        user_did -> Text,
        app_did -> Text,
        time_type -> Text,
        timestamp -> BigInt,
        total_calls -> BigInt,
        success_calls -> BigInt,
        failed_calls -> BigInt,
        total_usage -> BigInt,
        total_credits -> Text,
        total_duration_ms -> BigInt,
        stats -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    model_calls (id) {
        id -> Text,
        provider_id -> Nullable<Text>,
        model -> Text,
        credential_id -> Nullable<Text>,
        #[sql_name = "type"]
        type_ -> Text,
        status -> Text,
        total_usage -> BigInt,
        usage_metrics -> Nullable<Text>,
        credits -> Text,
        duration_ms -> Nullable<BigInt>,
        ttfb_ms -> Nullable<BigInt>,
        provider_ttfb_ms -> Nullable<BigInt>,
        error_reason -> Nullable<Text>,
        app_did -> Nullable<Text>,
        user_did -> Nullable<Text>,
        request_id -> Nullable<Text>,
        trace_id -> Nullable<Text>,
        metadata -> Nullable<Text>,
        call_time -> Timestamp,
        created_at -> Timestamp,
        instance_id -> Nullable<Text>,
        dialect -> Nullable<Text>,
    }
}

diesel::table! {
    notification_deliveries (id) {
        id -> Text,
        notification_id -> Text,
        channel -> Text,
        attempts -> BigInt,
        next_attempt_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        kind -> Text,
        severity -> Text,
        title -> Text,
        body -> Text,
        data -> Text,
        user_did -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    projects (app_did) {
        app_did -> Text,
        name -> Nullable<Text>,
        logo -> Nullable<Text>,
        url -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        fetched_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    stored_response_ids (id) {
        id -> Text,
        turn_key -> BigInt,
    }
}

diesel::table! {
    stored_responses (turn_key) {
        turn_key -> BigInt,
        id -> Text,
        user_did -> Text,
        previous_response_id -> Nullable<Text>,
        input -> Text,
        output -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (did) {
        did -> Text,
        name -> Nullable<Text>,
        role -> Text,
        created_at -> Timestamp,
        starter_credits_granted -> Bool,
        email -> Nullable<Text>,
        avatar -> Nullable<Text>,
    }
}

diesel::joinable!(access_keys -> users (user_did));
diesel::joinable!(ai_credentials -> ai_providers (provider_id));
diesel::joinable!(ai_model_rates -> ai_providers (provider_id));
diesel::joinable!(ai_model_statuses -> ai_providers (provider_id));
diesel::joinable!(notification_deliveries -> notifications (notification_id));

diesel::allow_tables_to_appear_in_same_query!(
    access_key_sessions,
    access_keys,
    ai_credentials,
    ai_model_rate_histories,
    ai_model_rates,
    ai_model_statuses,
    ai_providers,
    apps,
    credit_accounts,
    credit_grants,
    credit_reservations,
    credit_transactions,
    meter_event_outbox,
    model_aliases,
    model_call_stats,
    model_calls,
    notification_deliveries,
    notifications,
    projects,
    stored_response_ids,
    stored_responses,
    users,
);
