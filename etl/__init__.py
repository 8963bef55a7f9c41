"""Pipeline of online public-service indicators for Vietnamese provinces."""
