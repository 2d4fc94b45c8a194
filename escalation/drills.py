"""(being written this session: see issue 10)"""
