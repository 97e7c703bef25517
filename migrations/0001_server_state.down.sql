DROP TABLE server_state;
