"""The reviewer workflow: finance reviewers approve or reject the drafts Lynx AI submits."""
