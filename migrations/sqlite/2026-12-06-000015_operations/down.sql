DROP TABLE notification_deliveries;
DROP TABLE notifications;
DROP TABLE ai_model_rate_histories;
