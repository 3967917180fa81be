"""Pilot-site selection: calls for applications (申报通知), applications routed through their
province, expert review, quotas by region and category (名额分配), approval and task books (任务书)."""
