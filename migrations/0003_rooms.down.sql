DROP TABLE room_members;
DROP TABLE rooms;
DROP TABLE blocks;
DROP TABLE friendships;
DROP TABLE friend_requests;
