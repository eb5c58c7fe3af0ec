CREATE TABLE greetings (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
INSERT INTO greetings (text) VALUES ('hello');
